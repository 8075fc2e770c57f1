using TfPose.Graph;
using TfPose.Graph.Formats;
using TfPose.Tests;
using static TfPose.Runtime.Tests.TfliteOpTestKit;

namespace TfPose.Runtime.Tests;

/// <summary>IF and WHILE calling other subgraphs of a model built here, against values worked out by hand.</summary>
public class TfliteControlFlowOpTests
{
    /// <summary>IF(c, x): then-branch 3·x (a constant inside the branch), else-branch −x.</summary>
    private static TfliteModelBuilder IfModel(int thenIndex = 1)
    {
        var b = new TfliteModelBuilder();
        var cond = b.Input("c", [], Bool);
        var x = b.Input("x", [2]);
        var y = b.Tensor("y", F32, [2]);
        var then = b.Subgraph(out var thenAt);
        var a = then.Input("a", [2]);
        var three = then.Floats("three", [3], 1);
        var tripled = then.Tensor("tripled", F32, [2]);
        then.Operator("MUL", [a, three], [tripled], "Mul");
        then.Output(tripled);
        var otherwise = b.Subgraph(out var elseAt);
        var e = otherwise.Input("a", [2]);
        var negated = otherwise.Tensor("negated", F32, [2]);
        otherwise.Operator("NEG", [e], [negated]);
        otherwise.Output(negated);
        b.Operator("IF", [cond, x], [y], "If", TfliteModelBuilder.Options((0, thenIndex == 1 ? thenAt : thenIndex), (1, elseAt)));
        b.Output(y);
        return b;
    }

    [Theory]
    [TfliteOpTest("IF")]
    [InlineData(true, new float[] { 3, -6 })]
    [InlineData(false, new float[] { -1, 2 })]
    public void If_runs_the_branch_subgraph_the_condition_picks(bool condition, float[] expected)
    {
        var (values, shape) = Run<float>(IfModel(), "y", Feed("c", new[] { condition }), Feed("x", new float[] { 1, -2 }, 2));
        Assert.Equal([2L], shape);
        Close(expected, values);
    }

    [Theory]
    [TfliteOpTest("WHILE")]
    [InlineData(0, 5, 32)]
    [InlineData(3, 5, 4)]
    [InlineData(7, 7, 1)]
    public void While_runs_the_body_subgraph_until_the_condition_subgraph_is_false(int start, int end, float factor)
    {
        // WHILE(i, acc): condition i < 5; body (i + 1, acc · 2). From i = 0 the body runs 5 times (acc · 32); from 7, never.
        var b = new TfliteModelBuilder();
        var i = b.Input("i", [], I32);
        var acc = b.Input("acc", [2]);
        var iOut = b.Tensor("i_out", I32, []);
        var accOut = b.Tensor("acc_out", F32, [2]);
        var cond = b.Subgraph(out var condAt);
        var ci = cond.Input("i", [], I32);
        cond.Input("acc", [2]);
        var five = cond.Ints("five", [5]);
        var less = cond.Tensor("less", Bool, []);
        cond.Operator("LESS", [ci, five], [less]);
        cond.Output(less);
        var body = b.Subgraph(out var bodyAt);
        var bi = body.Input("i", [], I32);
        var bacc = body.Input("acc", [2]);
        var one = body.Ints("one", [1]);
        var two = body.Floats("two", [2]);
        var next = body.Tensor("next", I32, []);
        var doubled = body.Tensor("doubled", F32, [2]);
        body.Operator("ADD", [bi, one], [next], "Add");
        body.Operator("MUL", [bacc, two], [doubled], "Mul");
        body.Output(next);
        body.Output(doubled);
        b.Operator("WHILE", [i, acc], [iOut, accOut], "While", TfliteModelBuilder.Options((0, condAt), (1, bodyAt)));
        b.Output(iOut);
        b.Output(accOut);
        var results = RunAll(b, ["i_out", "acc_out"], Feed("i", new[] { start }), Feed("acc", new float[] { 1.5f, -0.25f }, 2));
        Assert.Equal([end], (int[])results[0].Values);
        Close([1.5f * factor, -0.25f * factor], (float[])results[1].Values);
    }

    [Fact]
    public void Calls_of_missing_or_mismatched_subgraphs_are_load_errors_naming_the_operator()
    {
        var error = Assert.Throws<GraphFormatException>(() => TfliteGraphModel.Parse(IfModel(thenIndex: 7).Build(), "if.tflite"));
        Assert.Contains("if.tflite", error.Message);
        Assert.Contains("operator 0 (IF): its then branch is subgraph 7, but the model has subgraphs 0 to 2", error.Message);

        // A WHILE whose body subgraph returns one value for two loop variables.
        var b = new TfliteModelBuilder();
        var i = b.Input("i", [], I32);
        var j = b.Input("j", [], I32);
        var outs = new[] { b.Tensor("i_out", I32, []), b.Tensor("j_out", I32, []) };
        var cond = b.Subgraph(out var condAt);
        var ci = cond.Input("i", [], I32);
        cond.Input("j", [], I32);
        var less = cond.Tensor("less", Bool, []);
        cond.Operator("LESS", [ci, ci], [less]);
        cond.Output(less);
        var body = b.Subgraph(out var bodyAt);
        var bi = body.Input("i", [], I32);
        body.Input("j", [], I32);
        body.Output(bi);
        b.Operator("WHILE", [i, j], outs, "While", TfliteModelBuilder.Options((0, condAt), (1, bodyAt)));
        b.Output(outs[0]);
        error = Assert.Throws<GraphFormatException>(() => TfliteGraphModel.Parse(b.Build(), "while.tflite"));
        Assert.Contains("operator 0 (WHILE) calls subgraph 2 with 2 value(s) for 2 result(s), but that subgraph takes 2 and returns 1", error.Message);
    }

    [Fact]
    public void A_subgraph_calling_itself_is_a_load_error_not_a_stack_overflow()
    {
        // WHILE(i) with condition subgraph 1 and body subgraph 2, whose own WHILE calls subgraph 2 again.
        var b = new TfliteModelBuilder();
        var i = b.Input("i", [], I32);
        var iOut = b.Tensor("i_out", I32, []);
        var cond = b.Subgraph(out var condAt);
        var ci = cond.Input("i", [], I32);
        var less = cond.Tensor("less", Bool, []);
        cond.Operator("LESS", [ci, ci], [less]);
        cond.Output(less);
        var body = b.Subgraph(out var bodyAt);
        var bi = body.Input("i", [], I32);
        var inner = body.Tensor("inner", I32, []);
        body.Operator("WHILE", [bi], [inner], "While", TfliteModelBuilder.Options((0, condAt), (1, bodyAt)));
        body.Output(inner);
        b.Operator("WHILE", [i], [iOut], "While", TfliteModelBuilder.Options((0, condAt), (1, bodyAt)));
        b.Output(iOut);
        var error = Assert.Throws<GraphFormatException>(() => TfliteGraphModel.Parse(b.Build(), "loop.tflite"));
        Assert.Contains("subgraph 2 operator 0 (WHILE): its body, subgraph 2, calls itself", error.Message);
    }
}

using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Text;
using TfPose.Graph;

namespace TfPose.Graph.Tests;

/// <summary>
/// Hostile text-format graphs: nesting deep enough to overflow a recursive parser's stack once killed the process
/// ("Stack overflow", exit 134). The parser now stops at protobuf's recursion limit with a GraphFormatException.
/// </summary>
public class TextFormatDepthTests
{
    // AttrValue → NameAttrList → map<string, AttrValue> is recursive: each repetition is 3 levels (map entry, value, func).
    private const string Level = "attr { key: \"k\" value { func { name: \"f\" ";
    private const string Close = "} } } ";

    [Fact]
    public void Ten_thousand_nested_messages_are_a_clear_error()
    {
        var text = "node { name: \"a\" op: \"NoOp\" " + Repeat(Level, 10_000) + Repeat(Close, 10_000) + "}\n";
        var error = ParseOnSmallStack(text, "deep.pbtxt");
        Assert.StartsWith("deep.pbtxt: ", error.Message);
        Assert.Contains("line 1", error.Message);
        Assert.Contains($"more than {TextFormatParser.MaxDepth} levels", error.Message);
    }

    [Fact]
    public void Ten_thousand_unclosed_nested_blocks_are_a_clear_error()
    {
        var text = "node { name: \"a\"\n" + Repeat(Level + "\n", 10_000);
        var error = ParseOnSmallStack(text, "unclosed.pbtxt");
        Assert.StartsWith("unclosed.pbtxt: ", error.Message);
        // node is level 1, each repetition 3 more: level 101 is the map entry opened on line 35.
        Assert.Contains("line 35 ", error.Message);
        Assert.Contains($"more than {TextFormatParser.MaxDepth} levels", error.Message);
    }

    [Fact]
    public void Ten_thousand_unclosed_node_blocks_are_a_clear_error()
    {
        var error = ParseOnSmallStack(Repeat("node {\n", 10_000), "nodes.pbtxt");
        Assert.StartsWith("nodes.pbtxt: ", error.Message);
        Assert.Contains("line 2", error.Message);
    }

    [Fact]
    public void Nesting_up_to_the_limit_still_parses()
    {
        // node (1) + 33 × 3 = 100 levels: allowed; one more repetition is not.
        static string Nested(int n) => "node { name: \"a\" op: \"NoOp\" " + Repeat(Level, n) + Repeat(Close, n) + "}\n";
        Exception? failure = null;
        RunOnSmallStack(() =>
        {
            try
            {
                var graph = TfGraph.Parse(Encoding.UTF8.GetBytes(Nested(33)), "limit.pbtxt");
                var value = graph.GetNode("a").Attr["k"];
                for (var i = 1; i < 33; i++)
                    value = value.Func.Attr["k"];
                Assert.Equal("f", value.Func.Name);
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        if (failure is not null)
            ExceptionDispatchInfo.Throw(failure);
        Assert.Throws<GraphFormatException>(() => TfGraph.Parse(Encoding.UTF8.GetBytes(Nested(34)), "over.pbtxt"));
    }

    private static string Repeat(string s, int n) => new StringBuilder(s.Length * n).Insert(0, s, n).ToString();

    /// <summary>
    /// Parses on a thread with a 256 KiB stack (a native caller's thread through the C API may have no more): the bound must
    /// hold well inside it. The error must come quickly; the old parser either overflowed or crawled through the text.
    /// </summary>
    private static GraphFormatException ParseOnSmallStack(string text, string source)
    {
        Exception? thrown = null;
        var watch = Stopwatch.StartNew();
        RunOnSmallStack(() =>
        {
            try
            {
                TfGraph.Parse(Encoding.UTF8.GetBytes(text), source);
            }
            catch (Exception e)
            {
                thrown = e;
            }
        });
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
        return Assert.IsType<GraphFormatException>(thrown);
    }

    private static void RunOnSmallStack(Action action)
    {
        var thread = new Thread(() => action(), maxStackSize: 256 * 1024);
        thread.Start();
        thread.Join();
    }
}

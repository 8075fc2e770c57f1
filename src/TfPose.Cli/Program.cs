using System.CommandLine;
using TfPose.Cli;
using TfPose.Cli.Commands;

var root = new RootCommand("TfPose: run frozen TensorFlow graphs, estimate poses, train Keras-style models.");
// One line per command group; each group lives in its own file under Commands/.
root.Add(GraphCommands.Create());

return await CliRunner.InvokeAsync(root, args);

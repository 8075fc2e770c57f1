using Spectre.Console;
using TfPose.Cli;

var root = CliCommands.Create();

// Redirected to a file or pipe, Spectre assumes 80 columns and wraps result lines mid-number; a log keeps them whole.
if (Console.IsOutputRedirected)
    AnsiConsole.Profile.Width = 200;

return await CliRunner.InvokeAsync(root, args);

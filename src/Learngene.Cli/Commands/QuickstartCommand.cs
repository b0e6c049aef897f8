using System.CommandLine;
using Learngene.Runs;

namespace Learngene.Cli;

/// <summary><c>learngene quickstart</c>: the main job on built-in defaults. For now it trains the small
/// CPU ViT on Fashion-MNIST (fetching the data if needed) and prints its test accuracy.</summary>
static class QuickstartCommand
{
    public static Command Create()
    {
        var output = new Option<string?>("--out") { Description = "Run folder (default: runs/quickstart-TIMESTAMP)" };
        var dataDir = Shared.DataDir();
        var threads = Shared.Threads();
        var cmd = new Command("quickstart", "Train the small CPU ViT (depth 12, width 64) on Fashion-MNIST for 5 epochs and print its test accuracy (about 8 minutes on 2 cores).");
        cmd.Options.Add(output);
        cmd.Options.Add(dataDir);
        cmd.Options.Add(threads);
        cmd.SetAction(r =>
        {
            Shared.SetThreads(r.GetValue(threads));
            var spec = TrainCommand.BuildSpec("small", null, "fashion-mnist", new ArchitectureOptions(), new RecipeOptions(), r);
            string dir = r.GetValue(output) ?? Path.Combine("runs", $"quickstart-{DateTime.Now:yyyyMMdd-HHmmss}");
            Console.WriteLine("quickstart: train preset 'small' on Fashion-MNIST");
            var result = ConsoleProgress.Run(p => TrainRun.Start(spec, dir, Shared.Catalog(r, dataDir), p, ConsoleProgress.Log));
            TrainCommand.Summarize(result);
            return 0;
        });
        return cmd;
    }
}

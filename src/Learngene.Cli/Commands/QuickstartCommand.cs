using System.CommandLine;
using Learngene.Experiments;

namespace Learngene.Cli;

/// <summary><c>learngene quickstart</c>: the main job on built-in defaults — TLEG and SWS against scratch on
/// Fashion-MNIST at the quickstart budget (teacher, two learngenes, descendants at four depths), ending with
/// the tables, the verdicts its budget resolves and the report's path.</summary>
static class QuickstartCommand
{
    public static Command Create()
    {
        var output = new Option<string?>("--out") { Description = "Run folder (default: runs/quickstart; re-running resumes it)" };
        var dataDir = Shared.DataDir();
        var threads = Shared.Threads();
        var cmd = new Command("quickstart", "TLEG and SWS against scratch on Fashion-MNIST at a small budget (about 5 minutes on 2 cores): teacher, two learngenes, descendants of depth 2, 4, 8 and 12 tested on all 10 000 test images; prints the tables, the verdicts and the report's path.");
        cmd.Options.Add(output);
        cmd.Options.Add(dataDir);
        cmd.Options.Add(threads);
        cmd.SetAction(r =>
        {
            Shared.SetThreads(r.GetValue(threads));
            var run = ExperimentRegistry.Registry.Find("compare").Configure("quickstart", new GivenSettings(new Dictionary<string, string> { ["methods"] = "tleg,sws,scratch" }));
            ExperimentCommand.Run(run, r.GetValue(output) ?? Path.Combine("runs", "quickstart"), Shared.Cache(r, dataDir));
            return 0;
        });
        return cmd;
    }
}

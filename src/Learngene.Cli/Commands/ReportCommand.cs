using System.CommandLine;
using Learngene.Experiments;

namespace Learngene.Cli;

static class ReportCommand
{
    public static Command Create()
    {
        var dir = new Argument<string>("RUN_DIR") { Description = "An experiment's run folder (with results.json)" };
        var cmd = new Command("report", $"Re-render an experiment's report.md and plots from its results.json (any experiment: {string.Join(", ", ExperimentRegistry.Registry.Names)}).");
        cmd.Arguments.Add(dir);
        cmd.SetAction(r =>
        {
            string runDir = r.GetValue(dir)!;
            string report = ExperimentRegistry.OfFolder(runDir).WriteReport(runDir);
            Console.WriteLine(Summary(report));
            Console.WriteLine($"report: {report}");
            return 0;
        });
        return cmd;
    }

    /// <summary>The report's tables and checks, for the console.</summary>
    public static string Summary(string reportPath) =>
        string.Join('\n', File.ReadAllLines(reportPath).TakeWhile(l => !l.StartsWith("![")).Where(l => !l.StartsWith("![")));
}

using System.CommandLine;
using Learngene.Bench;

namespace Learngene.Cli;

/// <summary><c>learngene quickstart</c>: the main job on built-in defaults — the TLEG pipeline on
/// Fashion-MNIST → MNIST at the quickstart budget (teacher, learngene, descendants at four depths,
/// against scratch and pretrain-finetune), ending with the table and the report's path.</summary>
static class QuickstartCommand
{
    public static Command Create()
    {
        var output = new Option<string?>("--out") { Description = "Run folder (default: runs/quickstart; re-running resumes it)" };
        var dataDir = Shared.DataDir();
        var threads = Shared.Threads();
        var cmd = new Command("quickstart", "The TLEG pipeline on Fashion-MNIST → MNIST at a small budget (about 7 minutes on 2 cores): teacher, learngene, descendants of depth 2, 4, 8 and 12 against scratch and pretrain-finetune; prints the table and the report's path.");
        cmd.Options.Add(output);
        cmd.Options.Add(dataDir);
        cmd.Options.Add(threads);
        cmd.SetAction(r =>
        {
            Shared.SetThreads(r.GetValue(threads));
            TlegBench.Run(TlegPreset.Find("quickstart"), r.GetValue(output) ?? Path.Combine("runs", "quickstart"), Shared.Catalog(r, dataDir), teacher: null);
            return 0;
        });
        return cmd;
    }
}

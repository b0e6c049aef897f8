using System.CommandLine;
using Learngene.Experiments.Planning;

namespace Learngene.Cli;

/// <summary><c>--dry-run</c> and <c>--dry-batch</c> of every experiment: the preset's plan built and stepped
/// (<see cref="DryRun"/>), printed as a table; nothing is written and no data is read.</summary>
sealed class DryRunOptions
{
    readonly Option<bool> dryRun = new("--dry-run")
    {
        Description = "Build every training cell of the preset at full size and train it two steps (and one of a single image) on random stand-in images of " +
            "its shape; print each cell's parameters, " +
                      "estimated memory at the preset's batch and measured step time, then stop (nothing is written, no data is read)",
    };
    readonly Option<int> dryBatch = new("--dry-batch")
    {
        Description = "Images per step of the dry run (at most the preset's " +
        "batch)", DefaultValueFactory = _ => 2
    };

    public void AddTo(Command cmd)
    {
        cmd.Options.Add(dryRun);
        cmd.Options.Add(dryBatch);
    }

    /// <summary>Runs and prints the dry run when asked; false when the command should run for real.</summary>
    public bool Handled(ParseResult r, Func<IReadOnlyList<PlannedCell>> plan)
    {
        if (!r.GetValue(dryRun)) return false;
        var cells = plan();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Console.WriteLine($"dry run: {cells.Count} training cells, each built at full size and stepped twice at batch ≤ {r.GetValue(dryBatch)} on stand-in " +
            $"images");
        var rows = DryRun.Execute(cells, r.GetValue(dryBatch), ConsoleProgress.Log);
        Print(rows);
        Console.WriteLine($"dry run finished in {clock.Elapsed.TotalSeconds:F0} s; {Shared.PeakMemory()}");
        return true;
    }

    static void Print(IReadOnlyList<DryRunRow> rows)
    {
        double have = Learngene.Models.MemoryNeed.AvailableBytes();
        Console.WriteLine();
        Console.WriteLine($"CPU: {Learngene.Bench.OnnxBench.CpuName()}; memory here {Gib(have)}. Cells that are one computation (architecture, start, " +
            $"objective, teacher, batch, image shape) are stepped once.");
        Console.WriteLine("| cells | model | parameters | trained | batch | dry batch | step s (dry batch) | est. step s at batch (linear) | est. training " +
            "memory at batch | fits here |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var x in rows)
        {
            string cells = x.Cells.Count == 1 ? x.Cells[0] : $"{x.Cells[0]} (+{x.Cells.Count - 1})";
            if (x.Error is not null)
            {
                Console.WriteLine($"| {cells} | {x.Model} | {x.Parameters:N0} | | {x.Batch} | {x.DryBatch} | not stepped: {x.Error} | | | no |");
                continue;
            }
            string memory = x.EstimatedBytes is double m ? Gib(m) : "n/a";
            string fits = x.EstimatedBytes is double e ? (e < have ? "yes" : "no") : "?";
            Console.WriteLine($"| {cells} | {x.Model} | {x.Parameters:N0} | {x.TrainedParameters:N0} | {x.Batch} | {x.DryBatch} | {x.StepSeconds:F3} | " +
                              $"{x.StepSeconds * x.Batch / x.DryBatch:F2} | {memory} | {fits} |");
        }
        Console.WriteLine();
        Console.WriteLine("Estimates: memory = weights and every model held + optimizer and objective state (measured) + one step's activations, measured at " +
            "the dry batch and at one image " +
                          "and scaled linearly to the preset's batch; step time scaled linearly likewise (this CPU; a GPU's differs).");
    }

    static string Gib(double bytes) => bytes >= 1 << 30 ? $"{bytes / (1 << 30):F1} GiB" : $"{bytes / (1 << 20):F0} MiB";
}

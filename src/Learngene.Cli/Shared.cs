using System.CommandLine;
using Learngene.Data;
using Learngene.Reporting;
using Spectre.Console;

namespace Learngene.Cli;

/// <summary>Options that several verbs share.</summary>
static class Shared
{
    public static Option<string?> DataDir() => new("--data-dir")
    {
        Description = "Data cache folder (default: $LEARNGENE_DATA, else ~/.cache/learngene/data)",
    };

    public static Option<string> Data(string defaultValue = "fashion-mnist") => new("--data")
    {
        Description = "Data set: mnist, fashion-mnist, imagefolder:PATH, cifar10:PATH, cifar100:PATH or idx:PATH; a+b combines built-in sets (their classes one after the other)",
        DefaultValueFactory = _ => defaultValue,
    };

    public static Option<int> Threads() => new("--threads")
    {
        Description = "CPU threads for torch (0: torch's default)",
        DefaultValueFactory = _ => 0,
    };

    public static DataCatalog Catalog(ParseResult r, Option<string?> dataDir) => new(r.GetValue(dataDir));

    /// <summary>One data cache per command: every run it starts reads each data set once.</summary>
    public static DataCache Cache(ParseResult r, Option<string?> dataDir) => new(Catalog(r, dataDir));

    /// <summary>The process's peak resident memory so far (Linux: VmHWM), for the closing line of long jobs.</summary>
    public static string PeakMemory() => $"peak resident memory {System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MiB";

    /// <summary>A default run folder runs/PREFIX-TIMESTAMP. Under MPI the ranks may start a second apart, so
    /// rank 0's timestamp is everyone's.</summary>
    public static string TimestampedRunDir(string prefix)
    {
        string stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss");
        if (Learngene.Distributed.World.LaunchedRanks() > 1) stamp = Learngene.Distributed.World.Current.Broadcast(stamp);
        return Path.Combine("runs", $"{prefix}-{stamp}");
    }

    /// <summary><c>--workers</c>: how an experiment's cells are computed.</summary>
    public static Option<string> WorkersOption() => new("--workers")
    {
        Description = "local: here, one cell after another (under mpirun each cell is trained data-parallel by all ranks); " +
                      "mpi: the cells spread over the ranks of mpirun -np N (rank 0 hands them out, ranks 1..N-1 train one each, rank 0 gathers the results)",
        DefaultValueFactory = _ => "local",
    };

    /// <summary>Runs an experiment with the chosen workers. Returns its results, or null on a worker rank of
    /// <c>--workers mpi</c> (rank 0 gathers and reports).</summary>
    public static T? Experiment<T>(string workers, Func<T> run) where T : class
    {
        switch (workers)
        {
            case "local":
                return run();
            case "mpi":
                var cellWorkers = new Learngene.Experiments.CellWorkers(Learngene.Distributed.World.Current);
                Learngene.Experiments.CellWorkers.Current = cellWorkers;
                if (cellWorkers.IsCoordinator)
                {
                    ConsoleProgress.Log($"rank 0 hands out the cells to {Learngene.Distributed.World.Current.Size - 1} worker rank(s)");
                    cellWorkers.Serve(ConsoleProgress.Log);
                    return run(); // every cell is on disk now: gathering only
                }
                try { run(); }
                catch (Learngene.Experiments.WorkerPassComplete) { }
                cellWorkers.Finish();
                return null;
            default:
                throw new LearngeneException($"unknown workers '{workers}' (expected local or mpi)", setting: "workers");
        }
    }

    public static void SetThreads(int threads)
    {
        if (threads < 0) throw new LearngeneException($"--threads must not be negative (got {threads})");
        if (threads > 0) TorchSharp.torch.set_num_threads(threads);
        // Ranks sharing a node share its cores: one libtorch pool each of the node's size would oversubscribe it.
        else if (Learngene.Distributed.World.LaunchedRanks() > 1)
            TorchSharp.torch.set_num_threads(Math.Max(1, Environment.ProcessorCount / Math.Max(1, Learngene.Distributed.World.LocalRanks())));
    }
}

static class TableExtensions
{
    /// <summary>Adds a row of plain text (Spectre's string overload parses markup, and shapes like [1,2] are not markup).</summary>
    public static void AddTextRow(this Spectre.Console.Table table, params string[] cells) =>
        table.AddRow(cells.Select(c => (Spectre.Console.Rendering.IRenderable)new Spectre.Console.Text(c)).ToArray());
}

using System.Text.Json;
using Learngene.Data;
using Learngene.IO;
using Learngene.Models;
using Learngene.Runs;
using Learngene.Training;

namespace Learngene.Experiments;

/// <summary>Experiment cells on disk: each cell is a run folder under cells/NAME with a cell.json once it
/// is complete. A completed cell is never recomputed; an interrupted one resumes from its checkpoint.
/// Under MPI (data parallel: every rank runs the experiment and trains each cell together) rank 0 alone
/// writes the records, and the ranks meet after each so they all see the same cells as done.
/// With <c>--workers mpi</c> (<see cref="CellWorkers"/>) cells are spread over the ranks instead, each trained
/// by one process.</summary>
public sealed class CellStore(string runDir, Distributed.World? world = null)
{
    readonly CellWorkers? workers = CellWorkers.Current;
    readonly Distributed.World world = world ?? (CellWorkers.Current is not null ? Distributed.World.Single : Distributed.World.Current);

    /// <summary>This process is a worker of <c>--workers mpi</c>: cells given to others come back pending.</summary>
    public bool IsWorker => workers is { IsCoordinator: false };

    public string CellsDir { get; } = Path.Combine(runDir, "cells");

    readonly string wallPath = Path.Combine(runDir, "wall-seconds.txt");
    readonly System.Diagnostics.Stopwatch clock = System.Diagnostics.Stopwatch.StartNew();
    double? wallBefore;

    /// <summary>Adds this invocation's time so far to the folder's wall-clock total (kept in wall-seconds.txt,
    /// saved after every computed cell so that an interrupted run keeps its count) and returns the total.</summary>
    public double SaveWallSeconds()
    {
        wallBefore ??= File.Exists(wallPath) && double.TryParse(File.ReadAllText(wallPath), System.Globalization.CultureInfo.InvariantCulture, out double w) ? w : 0;
        double total = wallBefore.Value + clock.Elapsed.TotalSeconds;
        Directory.CreateDirectory(runDir);
        AtomicFile.WriteAllText(wallPath, total.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        return total;
    }

    /// <summary>A path as recorded in results: relative to the run folder.</summary>
    public string Relative(string path) => Path.GetRelativePath(Path.GetFullPath(runDir), Path.GetFullPath(path));

    /// <summary>A recorded path made usable (absolute ones, from older results, are kept).</summary>
    public string Resolve(string recorded) => Path.GetFullPath(Path.Combine(runDir, recorded));

    /// <summary>A cell for a model the user gave instead of one trained here (a teacher file).</summary>
    public CellResult Given(string name, string path) => new() { Name = name, Task = "source", Method = "given", ModelPath = Relative(path) };

    public string FolderOf(string name) => Path.Combine(CellsDir, name);

    public CellResult? Completed(string name)
    {
        string path = Path.Combine(FolderOf(name), "cell.json");
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<CellResult>(File.ReadAllText(path), ModelConfig.Json); }
        catch (JsonException) { return null; } // a damaged record is recomputed
    }

    public CellResult GetOrCompute(string name, Func<string, CellResult> compute, Action<string>? log = null)
    {
        if (Completed(name) is { } done)
        {
            log?.Invoke($"[{name}] cached: {done.Summary()}");
            return done;
        }
        if (IsWorker)
            switch (workers!.Claim(name))
            {
                case CellWorkers.Answer.Busy: return new CellResult { Name = name, Pending = true };
                case CellWorkers.Answer.Done: return Completed(name) ?? throw new LearngeneException($"{FolderOf(name)}: rank 0 says this cell is done, but its cell.json is not there (is the run folder on a file system every rank shares?)");
            }
        log?.Invoke($"[{name}] running");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = compute(FolderOf(name)) with { Name = name };
        result = result with { Seconds = result.Seconds > 0 ? result.Seconds : clock.Elapsed.TotalSeconds };
        if (world.IsRoot)
        {
            AtomicFile.WriteAllText(Path.Combine(FolderOf(name), "cell.json"), JsonSerializer.Serialize(result, ModelConfig.Json));
            SaveWallSeconds();
        }
        world.Barrier();
        log?.Invoke($"[{name}] done: {result.Summary()} in {result.Seconds:F0} s");
        if (IsWorker) workers!.Report(name);
        return result;
    }

    /// <summary>The cell's result, waiting for it when another worker is computing it.</summary>
    public CellResult Need(CellResult cell)
    {
        if (!cell.Pending) return cell;
        Await(cell.Name);
        return Completed(cell.Name)!;
    }

    /// <summary>Waits until the named cell is done when another worker is computing it (a no-op otherwise).</summary>
    public void Await(string name)
    {
        if (!IsWorker || Completed(name) is not null) return;
        workers!.Await(name);
        if (Completed(name) is null)
            throw new LearngeneException($"{FolderOf(name)}: its cell is done by another rank, but its cell.json is not there (is the run folder on a file system every rank shares?)");
    }

    /// <summary>Where a worker's pass through an experiment ends: gathering the results is rank 0's.</summary>
    public void EndOfWorkerPass()
    {
        if (IsWorker) throw new WorkerPassComplete();
    }

    /// <summary>Trains one cell's run in its folder: resumes it from its checkpoint when an earlier
    /// invocation was interrupted, else starts it afresh.</summary>
    public CellResult Train(string dir, RunSpec spec, DataCache data, string task, string init, int depth)
    {
        bool resumable = File.Exists(Path.Combine(dir, Trainer.CheckpointName));
        if (!resumable && Directory.Exists(dir) && world.IsRoot) Directory.Delete(dir, recursive: true); // stopped before its first checkpoint
        world.Barrier();
        var result = resumable ? TrainRun.Resume(dir, data, log: null, world: world) : TrainRun.Start(spec, dir, data, observer: null, log: null, world: world);
        return new CellResult
        {
            Task = task, Method = init, Depth = depth, Seed = spec.Options.Seed, History = result.History, Parameters = result.Parameters,
            MacsPerImage = result.MacsPerImage, ModelPath = Relative(result.ModelPath),
            TrainImages = result.History[^1].ImagesSeen, Seconds = result.History.Sum(h => h.Seconds),
        };
    }
}

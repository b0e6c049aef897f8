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
/// writes the records, and the ranks meet after each so they all see the same cells as done.</summary>
public sealed class CellStore(string runDir, Distributed.World? world = null)
{
    readonly Distributed.World world = world ?? Distributed.World.Current;

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
    public CellResult Given(string name, string path) => new() { Name = name, Task = "source", Init = "given", ModelPath = Relative(path) };

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
        return result;
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
            Task = task, Init = init, Depth = depth, Seed = spec.Options.Seed, History = result.History, Parameters = result.Parameters,
            MacsPerImage = result.MacsPerImage, ModelPath = Relative(result.ModelPath),
            TrainImages = result.History[^1].ImagesSeen, Seconds = result.History.Sum(h => h.Seconds),
        };
    }
}

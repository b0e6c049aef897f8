using Learngene.Data;
using Learngene.IO;
using Learngene.Models;
using Learngene.Runs;
using Learngene.Training;
using TorchSharp;

namespace Learngene.Experiments.Planning;

/// <summary>What a dry run measured of one group of a plan's cells (the same computation).</summary>
/// <param name="Cells">The group's cell names.</param>
/// <param name="StepSeconds">The second step's wall time at <paramref name="DryBatch"/> (the first warms up).</param>
/// <param name="EstimatedBytes">Training memory at the preset's batch: the weights and every model the run
/// holds, the optimizer's state and the objective's copies (measured), and the activations of a step (measured
/// at the dry batch and at one image, scaled linearly to the preset's); never below what training certainly
/// needs (<see cref="MemoryNeed.TrainingBytes"/>). Null where resident memory cannot be read.</param>
/// <param name="Error">Why the group could not be stepped on this machine (null when it was).</param>
public sealed record DryRunRow(IReadOnlyList<string> Cells, string Model, long Parameters, long TrainedParameters, int Batch, int DryBatch,
    double StepSeconds, double? EstimatedBytes, string? Error = null);

/// <summary>Checks a preset's plan before paying for it (<c>bench NAME --dry-run</c>): every training cell
/// is built at its full size and trained for two steps on stand-in data of the preset's image shape, at a
/// batch that fits this machine (and a third of one image, which separates per-image memory from the rest),
/// through the same trainer and objectives as the real run. Cells that are the
/// same computation (<see cref="PlannedCell.Signature"/>) are stepped once and reported together.</summary>
public static class DryRun
{
    public static List<DryRunRow> Execute(IReadOnlyList<PlannedCell> plan, int dryBatch = 2, Action<string>? log = null)
    {
        if (dryBatch < 1) throw new LearngeneException($"the dry run's batch must be at least 1 (got {dryBatch})", setting: "dry-batch");
        var groups = plan.Select(c => (Cell: c, Shape: ShapeOf(c.Spec)))
            .GroupBy(x => x.Cell.Signature(x.Shape)).ToList();
        var rows = new List<DryRunRow>();
        foreach (var (group, i) in groups.Select((g, i) => (g, i)))
        {
            var (first, shape) = group.First();
            log?.Invoke($"[{i + 1}/{groups.Count}] {first.Name}{(group.Count() > 1 ? $" and {group.Count() - 1} more" : "")}");
            // libtorch's first steps allocate its own buffers and thread pools once per process: the first group
            // is run twice and measured the second time, so that its memory is its own.
            if (i == 0) Step(first, shape, [], dryBatch);
            rows.Add(Step(first, shape, group.Select(x => x.Cell.Name).ToList(), dryBatch));
            Native.CollectGarbage();
        }
        return rows;
    }

    /// <summary>The images a cell's run would train on: its data's shape, at the model's image size when it
    /// sets one, and only the classes it keeps.</summary>
    public static DataShape ShapeOf(RunSpec spec)
    {
        var shape = StandInData.ShapeOf(spec.Data);
        if (spec.Classes is { } kept) shape = shape with { ClassNames = kept.Select(k => shape.ClassNames[k]).ToArray() };
        int size = spec.Model.ImageSize > 0 ? spec.Model.ImageSize : InputSize.Fit(shape.ImageSize, spec.Model.SizeStep());
        return shape with { ImageSize = size };
    }

    static DryRunRow Step(PlannedCell cell, DataShape shape, List<string> names, int dryBatch)
    {
        var spec = cell.Spec;
        int batch = spec.Options.BatchSize, b = Math.Min(batch, dryBatch);
        var options = spec.Options with { Epochs = 1, BatchSize = b, EvalBatchSize = b };
        var config = spec.Model.WithData(shape.ImageSize, shape.Channels, shape.Classes).Validate();
        string describe = config.Describe();
        var (parameters, _) = config.Size();
        Native.CollectGarbage();
        long? before = ResidentMemory.Current();
        // Two steps of b images and a third of one: the peaks of a full and a one-image step tell the
        // activations per image from what a step allocates whatever its batch (parameter-sized temporaries).
        var data = StandInData.Splits(shape, train: 2 * b + 1, test: b);
        torch.nn.Module? model = null, teacher = null;
        try
        {
            torch.manual_seed(options.Seed);
            model = cell.Start?.Invoke(shape) ?? TrainRun.Build(spec with { Model = config });
            describe = ((IModel)model).Config.Describe();
            long trained = ParameterGroups.Of(model).Sum(p => p.Param.numel());
            var norm = Normalization.Of(data.Train);
            teacher = cell.Teacher is null ? null
                : ModelFamilies.Registry.Find(cell.Teacher.Family).Build(cell.Teacher.WithData(shape.ImageSize, shape.Channels, shape.Classes).Validate());
            var loadedTeacher = teacher is null ? null : new ModelFile.Loaded((Classifier)teacher, norm, shape.ClassNames.ToArray(), []);
            using var objective = ObjectiveRegistry.Registry.Find(spec.Objective ?? ObjectiveRegistry.Default)
                .Create(new ObjectiveContext(options, model, norm, data, loadedTeacher) { Settings = spec.ObjectiveSettings });
            var probe = new StepProbe();
            Native.CollectGarbage();
            long? built = ResidentMemory.Current();
            new Trainer(options) { Observer = probe, EvaluateEachEpoch = false }.Fit(model, objective, data, norm);
            double? measured = before is long m0 && built is long m1 && probe.AfterFirst is long m2 && probe.Peaks.TryGetValue(2, out var full)
                ? (m1 - m0) + Math.Max(0, m2 - m1) + Activations(full, probe.Peaks.GetValueOrDefault(3, full), b, batch)
                : null;
            // Resident memory is the process's: what other threads free meanwhile can hide some of the run's. The
            // estimate is never below what training certainly needs (the refusal's under-estimate).
            double floor = MemoryNeed.TrainingBytes(((IModel)model).Config, batch, trained) + 4.0 * (teacher?.ParameterCount() ?? 0);
            double? estimate = measured is double m ? Math.Max(m, floor) : null;
            return new DryRunRow(names, describe, model.ParameterCount(), trained, batch, b, probe.SecondStepSeconds, estimate);
        }
        catch (LearngeneException e)
        {
            return new DryRunRow(names, describe, (long)parameters, 0, batch, b, double.NaN, null, e.Message);
        }
        finally
        {
            model?.Dispose();
            teacher?.Dispose();
            data.Train.Dispose();
            data.Test.Dispose();
        }
    }

    /// <summary>A step's memory above the training state at <paramref name="batch"/> images, from its peaks at
    /// <paramref name="b"/> images and at one: the per-image part scaled, the rest kept.</summary>
    static double Activations(long peakFull, long peakOne, int b, int batch)
    {
        if (b == 1) return (double)peakFull * batch;
        double perImage = Math.Max(0, (peakFull - peakOne) / (double)(b - 1));
        return Math.Max(0, peakFull - perImage * b) + perImage * batch;
    }

    /// <summary>Watches the three steps: after each it hands the freed heap back, notes resident memory and
    /// restarts the peak, so that the next step's peak above it is that step's activations and temporaries
    /// (weights, gradients and optimizer state are allocated by then); and it times the second step.</summary>
    sealed class StepProbe : ITrainingObserver
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        long? resident;
        public Dictionary<int, long> Peaks { get; } = [];
        public long? AfterFirst { get; private set; }
        public double SecondStepSeconds { get; private set; } = double.NaN;

        public void StepDone(int step, int steps, double loss, double imagesPerSecond)
        {
            if (step == 2) SecondStepSeconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
            if (step > 1 && resident is long r && ResidentMemory.Peak() is long peak) Peaks[step] = Math.Max(0, peak - r);
            Native.CollectGarbage();
            resident = ResidentMemory.ResetPeak() ? ResidentMemory.Current() : null;
            if (step == 1) AfterFirst = resident;
            started = System.Diagnostics.Stopwatch.GetTimestamp();
        }
    }
}

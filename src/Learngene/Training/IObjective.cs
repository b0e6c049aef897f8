using Learngene.Data;
using Learngene.IO;
using Learngene.Methods.Pool;
using Learngene.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Training;

/// <summary>What one step produced: the loss to minimize and named metric sums over the batch's
/// <see cref="Count"/> samples (the loop divides by the samples seen, so "accuracy" is a count of hits).</summary>
public sealed record ObjectiveStep(Tensor Loss, long Count, IReadOnlyDictionary<string, double> Sums);

/// <summary>Which rows of the global batch a step's inputs are: all of them in one process, a rank's share
/// in data-parallel training. An objective that draws randomness per sample (noise, diffusion steps) draws
/// it for <see cref="Total"/> rows and keeps rows [<see cref="Offset"/>, Offset + n), so N ranks draw between
/// them exactly what one process would.</summary>
public readonly record struct BatchShard(long Total, long Offset)
{
    public static BatchShard Whole(long rows) => new(rows, 0);

    /// <summary>This shard's <paramref name="rows"/> rows of a draw made for the whole batch.</summary>
    public Tensor Rows(Tensor wholeBatchDraw, long rows) => Total == rows ? wholeBatchDraw : wholeBatchDraw.narrow(0, Offset, rows);
}

/// <summary>What training minimizes and measures. The loop (<see cref="Trainer"/>) hands it the model and
/// a batch; it computes the loss and its named metrics, and it may hold a frozen teacher and parameters
/// of its own (learned maps), which train with the model and are saved in checkpoints.</summary>
public interface IObjective : IDisposable
{
    /// <summary>Parameters and buffers the objective learns itself; null when it has none.</summary>
    nn.Module? Own => null;

    /// <summary>Moves what the objective holds (teacher, own parameters) to the training device.</summary>
    void MoveTo(Device device) => Own?.to(device);

    ObjectiveStep Step(nn.Module model, Tensor inputs, Tensor targets);

    /// <summary>A step on a shard of the global batch (data-parallel training); objectives without per-sample
    /// random draws need not care which rows they have.</summary>
    ObjectiveStep Step(nn.Module model, Tensor inputs, Tensor targets, BatchShard shard) => Step(model, inputs, targets);

    /// <summary>A step this rank had no rows for (a last batch smaller than the ranks): an objective that counts
    /// its steps (its random draws and schedules follow the count) counts this one too, so the ranks agree.</summary>
    void StepWithoutRows() { }

    /// <summary>Called after every optimizer update (an objective keeping a weight average updates it here).</summary>
    void AfterUpdate(nn.Module model) { }

    /// <summary>Named metrics on held-out data, the model in eval mode.</summary>
    IReadOnlyDictionary<string, double> Evaluate(nn.Module model, ImageDataset data, Normalization norm, int batchSize, Device device);

    /// <summary>The last <see cref="Evaluate"/>'s prediction per image, for objectives that classify; null otherwise.</summary>
    TestPredictions? Predictions => null;

    /// <summary>Images to log with an epoch's metrics (a generator's samples), each [C, H, W] in [0, 1];
    /// null when the objective draws none. Called after <see cref="Evaluate"/>.</summary>
    IReadOnlyDictionary<string, Tensor>? Figures(nn.Module model) => null;

    /// <summary>The network a finished run saves: the trained one, or one the objective keeps (a weight
    /// average, which is what a diffusion model samples with).</summary>
    nn.Module Deployed(nn.Module trained) => trained;

    /// <summary>Provenance the saved model carries so that it can be used without the run (a diffusion
    /// model's prediction target and step count).</summary>
    IReadOnlyDictionary<string, string> Provenance => new Dictionary<string, string>();
}

/// <summary>Per held-out image, in the data set's order: its label and the class predicted under each metric
/// name ("accuracy" for a classifier, "accuracy/ID" per configuration of a stitch pool).</summary>
public sealed record TestPredictions(int[] Labels, IReadOnlyDictionary<string, int[]> Predicted)
{
    /// <summary>Per metric, whether each image was classified correctly.</summary>
    public Dictionary<string, bool[]> Correct() => Predicted.ToDictionary(kv => kv.Key, kv => kv.Value.Select((p, i) => p == Labels[i]).ToArray());
}

/// <summary>What an objective is built from: the recipe, the model it trains, the data's normalization and
/// classes, and the teacher when the run has one.</summary>
public sealed record ObjectiveContext(TrainOptions Options, nn.Module Model, Normalization DataNormalization, DataSplits Data, ModelFile.Loaded? Teacher)
{
    /// <summary>The objective's own settings as JSON (null: its defaults).</summary>
    public string? Settings { get; init; }
}

/// <summary>A named way to build an objective (the run's <c>objective</c> field picks one).</summary>
public sealed record ObjectiveFactory(string Name, string Description, Func<ObjectiveContext, IObjective> Create) : INamed;

public static class ObjectiveRegistry
{
    public static readonly Registry<ObjectiveFactory> Registry = new("objective", [Learngene.Training.Objectives.Classification.Factory, Learngene.Methods.Pool.FeatureDistillation.Factory, Learngene.Methods.Pool.StitchFineTuning.Factory, Learngene.Training.Objectives.DiffusionObjective.Factory]);

    public const string Default = "classification";
}

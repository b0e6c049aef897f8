using System.Diagnostics;
using Learngene.Data;
using Learngene.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Training;

/// <summary>The training loop, the same for every model and objective: AdamW over what the model (and the
/// objective) choose to train, warmup + cosine per step, gradient clipping, a dispose scope per step, an
/// evaluation per epoch, metrics (JSON lines, TensorBoard) and an atomic checkpoint per epoch in the run
/// folder. What the loss is and what is measured is the <see cref="IObjective"/>'s business; how the model
/// was built or initialized is its caller's. <see cref="Fit"/> is the loop over epochs; its parts are the
/// steps of one epoch (Trainer.Steps.cs), the epoch's measurement and record (Trainer.Epochs.cs), and the
/// strategy that runs it on one process or several (<see cref="DataParallel"/>).</summary>
public sealed partial class Trainer(TrainOptions options)
{
    public TrainOptions Options { get; } = options.Validate();

    /// <summary>Where the trainer writes; null keeps everything in memory (benchmarks, tests).</summary>
    public string? RunDir { get; init; }
    public ITrainingObserver? Observer { get; init; }
    public Device Device { get; init; } = torch.CPU;
    /// <summary>Skip the per-epoch test evaluation (the throughput benchmark times training alone).</summary>
    public bool EvaluateEachEpoch { get; init; } = true;
    /// <summary>The ranks training this model together (data parallel); one process by default. Every rank
    /// calls Fit; only rank 0 should be given a <see cref="RunDir"/> and an <see cref="Observer"/>.</summary>
    public Distributed.World World { get; init; } = Distributed.World.Single;
    /// <summary>Seconds the last Fit spent in all-reduce, and waiting for the slowest rank before it (0 in one process).</summary>
    public double CommunicationSeconds { get; private set; }
    public double WaitSeconds { get; private set; }

    public const string CheckpointName = "checkpoint.safetensors";
    public const string MetricsName = MetricsSink.FileName;

    /// <summary>Trains <paramref name="model"/> in place. With <paramref name="resumeFrom"/> (a checkpoint
    /// of the same architecture and recipe) it continues after the epochs that checkpoint records.</summary>
    public List<EpochMetrics> Fit(nn.Module model, IObjective objective, DataSplits data, Normalization norm, string? resumeFrom = null)
    {
        var config = (model as IModel ?? throw new ArgumentException($"{model.GetName()} is not a Learngene model (IModel)", nameof(model))).Config;
        model.to(Device);
        objective.MoveTo(Device);
        var trained = ParameterGroups.Of(model);
        if (objective.Own is { } own) trained = trained.Concat(ParameterGroups.Of(own, Checkpoint.ObjectivePrefix));
        using var optimizer = new AdamW(trained.ToList(), Options.WeightDecay);
        // Each rank holds its shard of the batch; only trained parameters get gradients and moments.
        if (Device.type == DeviceType.CPU)
            MemoryNeed.RequireTrainingFits(config, (Options.BatchSize + World.Size - 1) / World.Size, optimizer.Parameters.Sum(p => (double)p.numel()));
        var history = new List<EpochMetrics>();
        int startEpoch = resumeFrom is null ? 1 : Resume(resumeFrom, config, model, objective, optimizer, history);
        var parallel = new DataParallel(World);
        parallel.Start(Options.BatchSize, data.Train.Count, startEpoch, optimizer.Step,
            () => model.state_dict().Values.Concat((IEnumerable<Tensor>?)objective.Own?.state_dict().Values ?? []).Concat(optimizer.State().Values));
        using var listening = StopSignal.Listen();
        var fit = new Fitting(model, objective, optimizer, parallel, data, norm, config, startEpoch, Schedule(data.Train.Count),
            RunDir is null ? null : new MetricsSink(RunDir, history))
        { ImagesSeen = history.LastOrDefault()?.ImagesSeen ?? 0 };

        for (int epoch = startEpoch; epoch <= Options.Epochs; epoch++)
        {
            var steps = TrainEpoch(fit, epoch);
            var (metrics, predictions) = Measure(fit, epoch, steps);
            history.Add(metrics);
            Record(fit, epoch, metrics, predictions, history);
            Observer?.EpochDone(metrics);
            Native.CollectGarbage();
            // A stop asked for after the last step (during evaluation or the checkpoint's write) is honoured here,
            // with the epoch saved, even after the last epoch: a stop is never taken and then ignored.
            if (World.Any(StopSignal.Requested))
                throw new TrainingInterrupted($"interrupted after epoch {epoch}" + (RunDir is null ? ""
                    : $"; {Path.Combine(RunDir, CheckpointName)} holds it: continue with --resume"));
        }
        CommunicationSeconds = parallel.CommunicationSeconds;
        WaitSeconds = parallel.WaitSeconds;
        return history;
    }

    /// <summary>Everything one <see cref="Fit"/> trains with, handed to its parts; the images seen so far and the
    /// objective's metric names (a rank with no rows in a step adds zeros under them) change as it runs.</summary>
    sealed record Fitting(nn.Module Model, IObjective Objective, AdamW Optimizer, DataParallel Parallel, DataSplits Data, Normalization Norm,
        ModelConfig Config, int StartEpoch, CosineSchedule Schedule, MetricsSink? Metrics)
    {
        public long ImagesSeen { get; set; }
        public string[] MetricNames { get; set; } = [];
    }

    /// <summary>Restores a checkpoint of the same architecture into the model, the objective and the optimizer and
    /// its history into <paramref name="history"/>; returns the epoch to continue with.</summary>
    static int Resume(string checkpoint, ModelConfig config, nn.Module model, IObjective objective, AdamW optimizer, List<EpochMetrics> history)
    {
        var state = Checkpoint.ReadState(checkpoint);
        if (!state.Config.SameArchitecture(config))
            throw new LearngeneException($"{checkpoint} is a checkpoint of another architecture ({state.Config.Describe()}), not of {config.Describe()}");
        Checkpoint.Restore(checkpoint, model, objective, optimizer, state.OptimizerStep);
        history.AddRange(state.History);
        return state.EpochsDone + 1;
    }

    /// <summary>Warmup then cosine decay over every step of every epoch.</summary>
    CosineSchedule Schedule(int trainImages)
    {
        var loaderSteps = (trainImages + Options.BatchSize - 1) / Options.BatchSize;
        return new CosineSchedule(Options.LearningRate, Options.MinLearningRate, (long)Math.Round(Options.WarmupEpochs * loaderSteps), (long)Options.Epochs * loaderSteps);
    }

    /// <summary>What a run stopped in <paramref name="epoch"/> still has on disk (nothing without a run folder).</summary>
    string KeptCheckpoint(int epoch, int startEpoch) =>
        RunDir is not null && (epoch > startEpoch || startEpoch > 1) ? $"the checkpoint of epoch {epoch - 1} is kept; " : "";
}

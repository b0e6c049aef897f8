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
/// was built or initialized is its caller's.</summary>
public sealed class Trainer(TrainOptions options)
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
        int startEpoch = 1;
        if (resumeFrom is not null)
        {
            var state = Checkpoint.ReadState(resumeFrom);
            if (!state.Config.SameArchitecture(config))
                throw new LearngeneException($"{resumeFrom} is a checkpoint of another architecture ({state.Config.Describe()}), not of {config.Describe()}");
            Checkpoint.Restore(resumeFrom, model, objective, optimizer, state.OptimizerStep);
            history.AddRange(state.History);
            startEpoch = state.EpochsDone + 1;
        }

        var parallel = new DataParallel(World);
        if (World.IsDistributed)
        {
            if (Options.BatchSize < World.Size || data.Train.Count < World.Size)
                throw new LearngeneException($"the batch size {Options.BatchSize} or the {data.Train.Count} training images are fewer than the {World.Size} ranks sharing them", setting: "batch-size");
            // Every rank must have read the same checkpoint (a run folder all ranks share): else they would run
            // different numbers of steps and wait for each other forever.
            Span<double> position = [startEpoch, -startEpoch, optimizer.Step, -optimizer.Step];
            World.MaxInPlace(position);
            if (position[0] != -position[1] || position[2] != -position[3])
                throw new LearngeneException($"the ranks resume from different checkpoints (epochs {-position[1] - 1}..{position[0] - 1} done): the run folder must be one file system every rank sees");
            // Every rank starts from rank 0's weights, objective state and optimizer state (fresh or resumed).
            parallel.Broadcast(model.state_dict().Values.Concat((IEnumerable<Tensor>?)objective.Own?.state_dict().Values ?? []).Concat(optimizer.State().Values));
        }
        using var listening = StopSignal.Listen();
        var loaderSteps = (data.Train.Count + Options.BatchSize - 1) / Options.BatchSize;
        var schedule = new CosineSchedule(Options.LearningRate, Options.MinLearningRate,
            (long)Math.Round(Options.WarmupEpochs * loaderSteps), (long)Options.Epochs * loaderSteps);
        var metricsSink = RunDir is null ? null : new MetricsSink(RunDir, history);
        long imagesSeen = history.LastOrDefault()?.ImagesSeen ?? 0;
        string[] metricNames = [];

        for (int epoch = startEpoch; epoch <= Options.Epochs; epoch++)
        {
            model.train();
            var loader = new BatchLoader(data.Train, norm, Options.BatchSize, shuffle: true, augment: Options.Augment, Options.Seed, epoch, Device,
                World.IsDistributed ? (World.Rank, World.Size) : null);
            Observer?.EpochStarted(epoch, Options.Epochs, loader.Steps);
            var clock = Stopwatch.StartNew();
            var sums = new Dictionary<string, double>();
            double lr = 0;
            long seen = 0;
            int step = 0;
            using (var it = loader.Batches().GetEnumerator())
            {
                while (true)
                {
                    using var scope = torch.NewDisposeScope();
                    if (!it.MoveNext()) break;
                    var (x, y) = it.Current;
                    lr = schedule.At(optimizer.Step);
                    // This rank's rows of the global batch (all of them in one process); a last batch smaller
                    // than the ranks leaves some with none, which then add zeros.
                    long rows = x.shape[0], total = Math.Min(Options.BatchSize, data.Train.Count - (long)step * Options.BatchSize);
                    var shard = new BatchShard(total, BatchLoader.Shard(total, World.Rank, World.Size).Lo);
                    var result = rows > 0 ? objective.Step(model, x, y, shard) : null;
                    if (result is null) objective.StepWithoutRows();
                    var local = result?.Sums ?? metricNames.ToDictionary(n => n, _ => 0.0);
                    metricNames = local.Keys.ToArray();
                    // The whole batch's sums on every rank: the same decisions (divergence, stop) everywhere.
                    var (stepSums, stepCount, stop) = parallel.Combine(local, result?.Count ?? 0, StopSignal.Requested);
                    // A NaN or infinite loss stops the run before it reaches the weights: the last checkpoint stays good.
                    if (stepSums.TryGetValue("loss", out var loss) && !double.IsFinite(loss))
                        throw new LearngeneException($"training diverged at step {step + 1} of epoch {epoch} (optimizer step {optimizer.Step + 1}): the loss is {loss / stepCount}; " +
                            KeptCheckpoint(epoch, startEpoch) + "try a lower learning rate", setting: "lr");
                    optimizer.ZeroGrad();
                    result?.Loss.backward();
                    parallel.AverageGradients(optimizer.Parameters, (double)(result?.Count ?? 0) / stepCount);
                    // A non-finite gradient stops the run before the update, like a non-finite loss: clipping would
                    // multiply it into every gradient and AdamW into every weight, while the loss already recorded stays finite.
                    // The norm is read before clipping, which would spread a NaN into every gradient and hide where it came from.
                    double gradNorm = GradientNorm(optimizer.Parameters);
                    if (!double.IsFinite(gradNorm))
                        throw new LearngeneException($"training diverged at step {step + 1} of epoch {epoch} (optimizer step {optimizer.Step + 1}): the gradient norm is {gradNorm} " +
                            $"with a finite loss (non-finite gradients: {NonFinite.Describe(NonFinite.Gradients(model, objective))}); " +
                            KeptCheckpoint(epoch, startEpoch) + "try a lower learning rate", setting: "lr");
                    if (Options.ClipGrad > 0) nn.utils.clip_grad_norm_(optimizer.Parameters, Options.ClipGrad);
                    optimizer.Update(lr);
                    objective.AfterUpdate(model);
                    foreach (var (name, value) in stepSums) sums[name] = sums.GetValueOrDefault(name) + value;
                    seen += stepCount;
                    step++;
                    Native.CollectEverySecond();
                    Observer?.StepDone(step, loader.Steps, sums.GetValueOrDefault("loss") / seen, seen / clock.Elapsed.TotalSeconds);
                    // In one process the signal is read after the update (the step finishes); ranks use the
                    // flag they shared before the backward pass, so that they all stop at the same step.
                    if (World.IsDistributed ? stop : StopSignal.Requested)
                        throw new TrainingInterrupted($"interrupted at step {step} of epoch {epoch}" + (RunDir is null ? ""
                            : epoch > 1 ? $"; {Path.Combine(RunDir, CheckpointName)} holds epoch {epoch - 1}: continue with --resume" : "; no epoch had finished, so there is no checkpoint yet"));
                }
            }
            double seconds = clock.Elapsed.TotalSeconds;
            imagesSeen += seen;
            // Rank 0 evaluates and the others take its numbers: the history is the same on every rank.
            var test = EvaluateEachEpoch
                ? parallel.Share(World.IsRoot ? objective.Evaluate(model, data.Test, norm, Options.EvalBatchSize, Device) : null)
                : new Dictionary<string, double>();
            var predictions = EvaluateEachEpoch && World.IsRoot ? objective.Predictions : null;
            var m = new EpochMetrics
            {
                Epoch = epoch, Train = sums.ToDictionary(kv => kv.Key, kv => kv.Value / seen), Test = test.ToDictionary(),
                Outcomes = predictions?.Correct().ToDictionary(kv => kv.Key, kv => Statistics.TestOutcomes.Encode(kv.Value)),
                LearningRate = lr, ImagesPerSecond = seen / seconds, Seconds = seconds, ImagesSeen = imagesSeen,
                ResidentMb = Process.GetCurrentProcess().WorkingSet64 / 1048576.0,
            };
            // A diverged run stops here, its last good checkpoint kept, rather than writing NaN metrics.
            if (m.Train.Concat(m.Test).FirstOrDefault(kv => !double.IsFinite(kv.Value)) is { Key: not null } bad)
                throw new LearngeneException($"training diverged in epoch {epoch}: {(m.Train.ContainsKey(bad.Key) && !double.IsFinite(m.Train[bad.Key]) ? "train" : "test")} {bad.Key} is {bad.Value} " +
                    $"(train: {string.Join(", ", m.Train.Select(kv => $"{kv.Key} {kv.Value:G4}"))}; test: {string.Join(", ", m.Test.Select(kv => $"{kv.Key} {kv.Value:G4}"))}; " +
                    $"non-finite parameters and buffers: {NonFinite.Describe(NonFinite.State(model))}); try a lower learning rate", setting: "lr");
            history.Add(m);
            if (RunDir is not null)
            {
                if (predictions is not null) PredictionsFile.Add(RunDir, epoch, predictions);
                Checkpoint.Save(Path.Combine(RunDir, CheckpointName), new Checkpoint(config, Options, epoch, optimizer.Step, history), model, objective, optimizer);
                metricsSink!.Write(m);
                if (EvaluateEachEpoch && objective.Figures(model) is { } figures)
                {
                    metricsSink.WriteImages(figures, epoch);
                    foreach (var image in figures.Values) image.Dispose();
                }
            }
            Observer?.EpochDone(m);
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

    /// <summary>What a run stopped in <paramref name="epoch"/> still has on disk (nothing without a run folder).</summary>
    string KeptCheckpoint(int epoch, int startEpoch) =>
        RunDir is not null && (epoch > startEpoch || startEpoch > 1) ? $"the checkpoint of epoch {epoch - 1} is kept; " : "";

    /// <summary>The L2 norm of all gradients together (NaN or infinite when any gradient is).</summary>
    static double GradientNorm(IEnumerable<Tensor> parameters)
    {
        using var scope = torch.NewDisposeScope();
        var norms = parameters.Where(p => p.grad is not null).Select(p => p.grad!.detach().norm().to_type(ScalarType.Float64)).ToArray();
        return norms.Length == 0 ? 0 : torch.stack(norms).norm().item<double>();
    }
}

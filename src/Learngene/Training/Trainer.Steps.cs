using System.Diagnostics;
using Learngene.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Training;

public sealed partial class Trainer
{
    /// <summary>One epoch's training: its loss and metric sums, the images it saw, its last learning rate, its seconds.</summary>
    sealed record EpochSteps(Dictionary<string, double> Sums, long Seen, double LearningRate, double Seconds);

    /// <summary>Every step of one epoch, each in its own dispose scope: the objective's loss on this rank's rows,
    /// the whole batch's sums agreed by every rank, the backward pass, the gradients averaged over the ranks,
    /// clipping and the update. A non-finite loss or gradient stops the run before it reaches the weights.</summary>
    EpochSteps TrainEpoch(Fitting f, int epoch)
    {
        f.Model.train();
        var loader = new BatchLoader(f.Data.Train, f.Norm, Options.BatchSize, shuffle: true, augment: Options.Augment, Options.Seed, epoch, Device,
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
                lr = f.Schedule.At(f.Optimizer.Step);
                // This rank's rows of the global batch (all of them in one process); a last batch smaller
                // than the ranks leaves some with none, which then add zeros.
                long rows = x.shape[0], total = Math.Min(Options.BatchSize, f.Data.Train.Count - (long)step * Options.BatchSize);
                var shard = new BatchShard(total, BatchLoader.Shard(total, World.Rank, World.Size).Lo);
                var result = rows > 0 ? f.Objective.Step(f.Model, x, y, shard) : null;
                if (result is null) f.Objective.StepWithoutRows();
                var local = result?.Sums ?? f.MetricNames.ToDictionary(n => n, _ => 0.0);
                f.MetricNames = local.Keys.ToArray();
                // The whole batch's sums on every rank: the same decisions (divergence, stop) everywhere.
                var (stepSums, stepCount, stop) = f.Parallel.Combine(local, result?.Count ?? 0, StopSignal.Requested);
                // A NaN or infinite loss stops the run before it reaches the weights: the last checkpoint stays good.
                if (stepSums.TryGetValue("loss", out var loss) && !double.IsFinite(loss))
                    throw new LearngeneException($"training diverged at step {step + 1} of epoch {epoch} (optimizer step {f.Optimizer.Step + 1}): the loss is {loss / stepCount}; " +
                        KeptCheckpoint(epoch, f.StartEpoch) + "try a lower learning rate", setting: "lr");
                f.Optimizer.ZeroGrad();
                result?.Loss.backward();
                f.Parallel.AverageGradients(f.Optimizer.Parameters, (double)(result?.Count ?? 0) / stepCount);
                // A non-finite gradient stops the run before the update, like a non-finite loss: clipping would
                // multiply it into every gradient and AdamW into every weight, while the loss already recorded stays finite.
                // The norm is read before clipping, which would spread a NaN into every gradient and hide where it came from.
                double gradNorm = GradientNorm(f.Optimizer.Parameters);
                if (!double.IsFinite(gradNorm))
                    throw new LearngeneException($"training diverged at step {step + 1} of epoch {epoch} (optimizer step {f.Optimizer.Step + 1}): the gradient norm is {gradNorm} " +
                        $"with a finite loss (non-finite gradients: {NonFinite.Describe(NonFinite.Gradients(f.Model, f.Objective))}); " +
                        KeptCheckpoint(epoch, f.StartEpoch) + "try a lower learning rate", setting: "lr");
                if (Options.ClipGrad > 0) nn.utils.clip_grad_norm_(f.Optimizer.Parameters, Options.ClipGrad);
                f.Optimizer.Update(lr);
                f.Objective.AfterUpdate(f.Model);
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
        return new EpochSteps(sums, seen, lr, clock.Elapsed.TotalSeconds);
    }

    /// <summary>The L2 norm of all gradients together (NaN or infinite when any gradient is).</summary>
    static double GradientNorm(IEnumerable<Tensor> parameters)
    {
        using var scope = torch.NewDisposeScope();
        var norms = parameters.Where(p => p.grad is not null).Select(p => p.grad!.detach().norm().to_type(ScalarType.Float64)).ToArray();
        return norms.Length == 0 ? 0 : torch.stack(norms).norm().item<double>();
    }
}

using System.Diagnostics;
using Learngene.Data;
using Learngene.Distributed;
using Learngene.Models;
using Learngene.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Bench;

/// <summary>What data parallelism costs and gains on MPI, measured inside one job (every rank calls these):
/// training images/s through the trainer with a fixed global batch, the all-reduce time per step against the
/// gradient's size, and all-reduce alone over a range of buffer sizes (latency and bandwidth).</summary>
public static class MpiBench
{
    public sealed record Training(int Ranks, int ThreadsPerRank, string Model, int GlobalBatch, long Parameters, long MacsPerImage,
        double ImagesPerSecond, double StepSeconds, double AllReduceSecondsPerStep, double WaitSecondsPerStep)
    {
        public long GradientBytes => Parameters * 4;
    }

    public sealed record AllReduce(int Ranks, long Bytes, double Seconds)
    {
        public double GigabytesPerSecond => Bytes / Seconds / 1e9;
    }

    /// <summary>Trains <paramref name="steps"/> timed steps (after two warm-up steps) of random images with global
    /// batch <paramref name="batch"/> shared by the world's ranks.</summary>
    public static Training Train(World world, string presetName, ModelConfig config, int batch, int steps)
    {
        const int warmup = 2;
        torch.manual_seed(0);
        using var model = Classifier.Create(config);
        int n = (steps + warmup) * batch;
        var gen = new Generator(1);
        using var images = torch.randint(0, 256, [n, config.Channels, config.ImageSize, config.ImageSize], generator: gen).to_type(ScalarType.Byte);
        using var labels = torch.randint(0, config.Classes, [n], generator: gen);
        var names = Enumerable.Range(0, config.Classes).Select(i => i.ToString()).ToArray();
        using var train = new ImageDataset("random", images, labels, names, flipSafe: true);
        var options = new TrainOptions { Epochs = 1, BatchSize = batch };
        var norm = new Normalization(Enumerable.Repeat(0.5f, config.Channels).ToArray(), Enumerable.Repeat(0.25f, config.Channels).ToArray());
        using var objective = new Learngene.Training.Objectives.Classification(options, norm);
        var timer = new StepTimer(warmup);
        var trainer = new Trainer(options) { Observer = timer, EvaluateEachEpoch = false, World = world };
        DataParallel.TimeWaiting = true;
        trainer.Fit(model, objective, new DataSplits(train, train), norm);
        // Every rank timed the same steps; rank 0's clock speaks for the job (the steps end together).
        double stepSeconds = timer.Seconds / timer.Steps;
        return new Training(world.Size, torch.get_num_threads(), presetName, batch, model.ParameterCount(), model.MacsPerImage(),
            batch / stepSeconds, stepSeconds, trainer.CommunicationSeconds / (steps + warmup), trainer.WaitSeconds / (steps + warmup));
    }

    /// <summary>All-reduce (sum, float32, in place) of each size, repeated for about a quarter of a second.</summary>
    public static List<AllReduce> AllReduceTimes(World world, long[] bytes)
    {
        var results = new List<AllReduce>();
        foreach (long size in bytes)
        {
            using var buffer = torch.ones(size / 4);
            void Once() { unsafe { fixed (byte* p = buffer.bytes) world.SumInPlace((IntPtr)p, buffer.numel()); } }
            Once();
            world.Barrier();
            // Every rank must run the same number of calls: rank 0 picks it from its first timing.
            var clock = Stopwatch.StartNew();
            Once();
            Span<double> reps = [Math.Clamp(Math.Ceiling(0.25 / Math.Max(clock.Elapsed.TotalSeconds, 1e-6)), 3, 2000)];
            world.MaxInPlace(reps);
            world.Barrier();
            clock.Restart();
            for (int i = 0; i < (int)reps[0]; i++) Once();
            world.Barrier();
            results.Add(new AllReduce(world.Size, size, clock.Elapsed.TotalSeconds / reps[0]));
        }
        return results;
    }

    /// <summary>Latency (the smallest size's time) and peak bandwidth (the best bytes/s over sizes of 1 MB and up).</summary>
    public static (double LatencySeconds, double PeakBytesPerSecond) Summary(IReadOnlyList<AllReduce> times) =>
        (times.MinBy(t => t.Bytes)!.Seconds, times.Where(t => t.Bytes >= 1 << 20).Select(t => t.Bytes / t.Seconds).DefaultIfEmpty(0).Max());
}

using System.Text.Json;
using Learngene.Distributed;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Learngene.Training;

/// <summary>Data-parallel training over a <see cref="World"/>, as Horovod and PyTorch's DDP do it: every rank
/// holds the whole model, computes the gradient of its shard of each global batch, and the gradients are
/// summed with all-reduce over a few large flat buffers (buckets of <see cref="BucketBytes"/>, DDP's default
/// size) rather than one call per tensor. Weighting each rank's mean gradient by its share of the batch makes
/// the result the gradient of the global batch's mean loss, so N ranks take the steps one process would.</summary>
public sealed class DataParallel(World world)
{
    public const long BucketBytes = 25L << 20;
    public World World { get; } = world;

    /// <summary>Seconds spent in all-reduce (for the scaling benchmark), and before it waiting for the slowest
    /// rank to finish its backward pass (a barrier: what a skew between ranks costs, apart from the transfer).</summary>
    public double CommunicationSeconds { get; private set; }
    public double WaitSeconds { get; private set; }

    /// <summary>Meet at a barrier before each all-reduce so that waiting and transfer are timed apart (the
    /// scaling benchmark); off in training, where the all-reduce itself is the meeting point.</summary>
    public static bool TimeWaiting { get; set; }

    /// <summary>Before the first step: checks that the ranks can share the batch and resume from the same
    /// checkpoint, then gives every rank rank 0's state (<paramref name="state"/>: weights, objective state,
    /// optimizer state, fresh or resumed). Nothing to do in one process.</summary>
    public void Start(int batchSize, int trainImages, int startEpoch, long optimizerStep, Func<IEnumerable<Tensor>> state)
    {
        if (!World.IsDistributed) return;
        if (batchSize < World.Size || trainImages < World.Size)
            throw new LearngeneException($"the batch size {batchSize} or the {trainImages} training images are fewer than the {World.Size} ranks sharing them", setting: "batch-size");
        // Every rank must have read the same checkpoint (a run folder all ranks share): else they would run
        // different numbers of steps and wait for each other forever.
        Span<double> position = [startEpoch, -startEpoch, optimizerStep, -optimizerStep];
        World.MaxInPlace(position);
        if (position[0] != -position[1] || position[2] != -position[3])
            throw new LearngeneException($"the ranks resume from different checkpoints (epochs {-position[1] - 1}..{position[0] - 1} done): the run folder must be one file system every rank sees");
        Broadcast(state());
    }

    /// <summary>Rank 0's values of <paramref name="tensors"/> on every rank (weights at the start, so that all
    /// ranks begin from one model whatever their random initialization or their copy of a checkpoint).</summary>
    public void Broadcast(IEnumerable<Tensor> tensors)
    {
        if (!World.IsDistributed) return;
        using var _ = torch.no_grad();
        foreach (var bucket in Buckets(tensors.Where(t => t.numel() > 0)))
        {
            using var scope = torch.NewDisposeScope();
            foreach (var group in bucket.GroupBy(t => t.dtype))
            {
                var list = group.ToList();
                var flat = torch.cat(list.Select(t => t.detach().cpu().flatten()).ToList()).contiguous();
                unsafe { fixed (byte* p = flat.bytes) World.Broadcast((IntPtr)p, flat.bytes.Length); }
                Unflatten(flat, list);
            }
        }
    }

    /// <summary>Sums <paramref name="weight"/> × each rank's gradient over the ranks, in place: with
    /// weight = this rank's samples / the global batch's, the global batch's mean gradient. Parameters
    /// without a gradient contribute zeros (every rank must send the same buffers).</summary>
    public void AverageGradients(IEnumerable<Parameter> parameters, double weight)
    {
        if (!World.IsDistributed) return;
        using var _ = torch.no_grad();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        if (TimeWaiting)
        {
            World.Barrier();
            WaitSeconds += clock.Elapsed.TotalSeconds;
            clock.Restart();
        }
        var list = parameters.ToList();
        foreach (var p in list) p.grad ??= torch.zeros_like(p);
        foreach (var bucket in Buckets(list.Select(p => p.grad!)))
        {
            using var scope = torch.NewDisposeScope();
            // One float32 buffer on the host (MPI reads host memory; a no-op conversion for CPU float32 gradients).
            var flat = torch.cat(bucket.Select(g => g.flatten()).ToList());
            if (flat.dtype != ScalarType.Float32 || flat.device_type != DeviceType.CPU) flat = flat.to(ScalarType.Float32).cpu();
            flat.mul_(weight);
            unsafe { fixed (byte* p = flat.bytes) World.SumInPlace((IntPtr)p, flat.numel()); }
            Unflatten(flat, bucket);
        }
        CommunicationSeconds += clock.Elapsed.TotalSeconds;
    }

    /// <summary>The step's metric sums and sample count over all ranks, and whether any rank was asked to stop:
    /// every rank then takes the same decisions (divergence, stop) at the same step.</summary>
    public (Dictionary<string, double> Sums, long Count, bool Stop) Combine(IReadOnlyDictionary<string, double> sums, long count, bool stop)
    {
        if (!World.IsDistributed) return (sums.ToDictionary(), count, stop);
        var names = sums.Keys.Order(StringComparer.Ordinal).ToArray();
        var values = names.Select(n => sums[n]).Append(count).Append(stop ? 1 : 0).ToArray();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        World.SumInPlace(values);
        CommunicationSeconds += clock.Elapsed.TotalSeconds;
        return (names.Select((n, i) => (n, values[i])).ToDictionary(p => p.n, p => p.Item2), (long)values[^2], values[^1] > 0);
    }

    /// <summary>Rank 0's metrics on every rank (rank 0 alone evaluates).</summary>
    public Dictionary<string, double> Share(IReadOnlyDictionary<string, double>? metrics)
    {
        if (!World.IsDistributed) return metrics?.ToDictionary() ?? [];
        var json = World.Broadcast(World.IsRoot ? JsonSerializer.Serialize(metrics, DoubleJson) : null);
        return JsonSerializer.Deserialize<Dictionary<string, double>>(json, DoubleJson) ?? [];
    }

    // NaN and infinities must cross too (a diverged evaluation is the case that matters).
    static readonly JsonSerializerOptions DoubleJson = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    static IEnumerable<List<Tensor>> Buckets(IEnumerable<Tensor> tensors)
    {
        var bucket = new List<Tensor>();
        long bytes = 0;
        foreach (var t in tensors)
        {
            long size = t.numel() * t.ElementSize;
            if (bucket.Count > 0 && bytes + size > BucketBytes) { yield return bucket; bucket = []; bytes = 0; }
            bucket.Add(t);
            bytes += size;
        }
        if (bucket.Count > 0) yield return bucket;
    }

    static void Unflatten(Tensor flat, List<Tensor> into)
    {
        long at = 0;
        foreach (var t in into)
        {
            long n = t.numel();
            t.copy_(flat.narrow(0, at, n).view_as(t)); // copy_ converts dtype and device itself
            at += n;
        }
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Data;

/// <summary>Turns a data set into batches: a seeded shuffle per epoch, pixels to float, optional
/// augmentation (per-image random crop after zero padding of size/8, and horizontal flips unless the data
/// set is flip-unsafe, like digits), normalization. The epoch's generator depends only on (seed, epoch),
/// so a resumed run sees exactly the batches an uninterrupted run would have seen. With a
/// <paramref name="shard"/> (data-parallel training) it yields this rank's rows of each global batch, with the
/// same random draws as the whole batch would get: N ranks see between them exactly one process's batches.</summary>
public sealed class BatchLoader(ImageDataset data, Normalization norm, int batchSize, bool shuffle, bool augment, int seed, int epoch, Device? device = null,
    (int Rank, int Size)? shard = null)
{
    /// <summary>Rank <paramref name="rank"/>'s rows [lo, hi) of a global batch: contiguous, sizes differing by at most one.</summary>
    public static (long Lo, long Hi) Shard(long batch, int rank, int size) => (batch * rank / size, batch * (rank + 1) / size);

    public int Steps => (data.Count + batchSize - 1) / batchSize;

    public IEnumerable<(Tensor Images, Tensor Labels)> Batches()
    {
        using var gen = new Generator((ulong)(seed * 1_000_003L + epoch + 1));
        // The permutation outlives the per-step dispose scopes that the caller opens around each batch.
        using var order = (shuffle ? torch.randperm(data.Count, generator: gen) : torch.arange(data.Count)).DetachFromDisposeScope();
        for (int start = 0; start < data.Count; start += batchSize)
        {
            // The caller owns the step's dispose scope; these tensors live in it.
            long n = Math.Min(batchSize, data.Count - start);
            var (lo, hi) = shard is { } s ? Shard(n, s.Rank, s.Size) : (0, n);
            var idx = order.narrow(0, start + lo, hi - lo);
            var x = data.Images.index_select(0, idx).to_type(ScalarType.Float32).div_(255f);
            if (augment) x = Augment(x, gen, data.FlipSafe, n, lo);
            var y = data.Labels.index_select(0, idx);
            if (device is not null && device.type != DeviceType.CPU) { x = x.to(device); y = y.to(device); }
            yield return (norm.Apply(x), y);
        }
    }

    /// <summary>Augments rows [<paramref name="lo"/>, lo + x's rows) of a batch of <paramref name="total"/>: the
    /// draws are the whole batch's, so a shard gets what its images would get in the unsharded batch.</summary>
    static Tensor Augment(Tensor x, Generator gen, bool flips, long total, long lo)
    {
        long b = x.shape[0], size = x.shape[2];
        long pad = Math.Max(1, size / 8);
        var padded = nn.functional.pad(x, [pad, pad, pad, pad]);
        // One random crop per image, as two gathers: rows, then columns, at per-image offsets.
        var offsets = torch.randint(0, 2 * pad + 1, [total, 2], generator: gen).narrow(0, lo, b);
        var span = torch.arange(size);
        var rows = (offsets[.., 0].unsqueeze(1) + span).reshape(b, 1, size, 1).expand(b, x.shape[1], size, size + 2 * pad);
        var cols = (offsets[.., 1].unsqueeze(1) + span).reshape(b, 1, 1, size).expand(b, x.shape[1], size, size);
        x = padded.gather(2, rows).gather(3, cols);
        if (flips)
        {
            var flip = (torch.rand([total], generator: gen) < 0.5).narrow(0, lo, b).reshape(b, 1, 1, 1);
            x = torch.where(flip, x.flip(3), x);
        }
        return x;
    }
}

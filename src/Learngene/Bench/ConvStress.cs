using Learngene.Models;
using Learngene.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Bench;

/// <summary>Calls the CPU convolutions a ResNet teacher makes, with the exact shapes training and evaluation
/// give them (full batches, a last batch of another size, evaluation chunks, the weight gradient's
/// "convolution" whose kernel is the output gradient), thousands of times, and compares every float32 result
/// with a float64 reference of the same call. It counts non-finite values and wrong results per call site, so
/// a kernel that reads uninitialised memory or races shows up with its shape (run it under
/// <c>GLIBC_TUNABLES=glibc.malloc.perturb=N</c> so such a read is never harmless, and with
/// <c>OMP_NUM_THREADS=1</c> or <c>ONEDNN_MAX_CPU_ISA=AVX2</c> as controls).</summary>
public static class ConvStress
{
    /// <summary>One convolution of the network: input channels, output channels, kernel, stride, padding, input side.</summary>
    public sealed record Site(string Name, long In, long Out, long Kernel, long Stride, long Padding, long Side);

    /// <summary>What one (site, batch, call kind) saw over its repetitions.</summary>
    public sealed record Tally(string Site, long Batch, string Call, int Calls, int NonFinite, int Wrong, double WorstRelativeError);

    /// <summary>The k×k convolutions of a <see cref="ResNetConfig"/> (1×1 shortcuts are matrix products, not convolutions).</summary>
    public static List<Site> SitesOf(ResNetConfig config, long side)
    {
        var sites = new List<Site> { new("stem", config.Channels, config.Width, 3, 1, 1, side) };
        long width = config.Width;
        for (int stage = 0; stage < config.StageBlocks.Length; stage++)
        {
            long outWidth = config.Width << stage;
            for (int b = 0; b < config.StageBlocks[stage]; b++)
            {
                long stride = stage > 0 && b == 0 ? 2 : 1;
                sites.Add(new($"stage{stage}.block{b}.conv1", width, outWidth, 3, stride, 1, side));
                side = (side + 2 - 3) / stride + 1;
                sites.Add(new($"stage{stage}.block{b}.conv2", outWidth, outWidth, 3, 1, 1, side));
                width = outWidth;
            }
        }
        return sites;
    }

    /// <summary>Runs <paramref name="repeats"/> rounds over every site and batch size. Calls: libtorch's conv2d (oneDNN
    /// on the CPU), the two forward convolutions that compute a backward pass as convolutions (input and weight gradients), optionally libtorch's own
    /// backward (<paramref name="libtorchBackward"/>), and <see cref="SafeConv2d"/> with its gradients.</summary>
    public static List<Tally> Run(IReadOnlyList<Site> sites, IReadOnlyList<long> batches, int repeats, bool libtorchBackward, int seed, Action<string>? progress = null)
    {
        var tallies = new Dictionary<(string, long, string), (int Calls, int NonFinite, int Wrong, double Worst)>();
        var generator = new Random(seed);
        void Count(Site s, long b, string call, Tensor got, Tensor reference)
        {
            var key = (s.Name, b, call);
            var t = tallies.GetValueOrDefault(key);
            bool finite = got.isfinite().all().item<bool>();
            double scale = reference.abs().max().item<double>() + 1e-12;
            double error = finite ? (got.to_type(ScalarType.Float64) - reference).abs().max().item<double>() / scale : double.PositiveInfinity;
            tallies[key] = (t.Calls + 1, t.NonFinite + (finite ? 0 : 1), t.Wrong + (error > 1e-3 ? 1 : 0), Math.Max(t.Worst, error));
        }
        for (int r = 0; r < repeats; r++)
        {
            foreach (var s in sites)
                foreach (var b in batches)
                {
                    using var scope = torch.NewDisposeScope();
                    torch.manual_seed(generator.Next());
                    var x = torch.randn(b, s.In, s.Side, s.Side);
                    var w = torch.randn(s.Out, s.In, s.Kernel, s.Kernel) * (1.0 / Math.Sqrt(s.In * s.Kernel * s.Kernel));
                    var (x64, w64) = (x.to_type(ScalarType.Float64), w.to_type(ScalarType.Float64));
                    long[] stride = [s.Stride, s.Stride], pad = [s.Padding, s.Padding];
                    var y = nn.functional.conv2d(x, w, strides: stride, padding: pad);
                    Count(s, b, "conv2d", y, nn.functional.conv2d(x64, w64, strides: stride, padding: pad));
                    // The two forward convolutions the earlier SafeConv2d's backward pass made (stride 1): the input
                    // gradient as a convolution with the flipped kernel, the weight gradient with the output gradient as kernel.
                    long full = s.Side + 2 * s.Padding - s.Kernel + 1, back = s.Kernel - 1 - s.Padding;
                    var g = torch.randn(b, s.Out, full, full);
                    var g64 = g.to_type(ScalarType.Float64);
                    Count(s, b, "conv2d as input gradient", nn.functional.conv2d(g, w.flip(2, 3).transpose(0, 1), padding: [back, back]),
                        nn.functional.conv2d(g64, w64.flip(2, 3).transpose(0, 1), padding: [back, back]));
                    var padded = nn.functional.pad(x, [s.Padding, s.Padding, s.Padding, s.Padding]);
                    var padded64 = padded.to_type(ScalarType.Float64);
                    Count(s, b, "conv2d as weight gradient", nn.functional.conv2d(padded.transpose(0, 1), g.transpose(0, 1)).transpose(0, 1),
                        nn.functional.conv2d(padded64.transpose(0, 1), g64.transpose(0, 1)).transpose(0, 1));
                    // The reference's gradients (float64 takes libtorch's own im2col kernels, not oneDNN).
                    var gy = torch.randn(y.shape);
                    var (xr64, wr64) = (x64.detach().requires_grad_(), w64.detach().requires_grad_());
                    nn.functional.conv2d(xr64, wr64, strides: stride, padding: pad).backward([gy.to_type(ScalarType.Float64)]);
                    if (libtorchBackward)
                    {
                        var (xr, wr) = (x.detach().requires_grad_(), w.detach().requires_grad_());
                        nn.functional.conv2d(xr, wr, strides: stride, padding: pad).backward([gy]);
                        Count(s, b, "conv2d backward: input", xr.grad!, xr64.grad!);
                        Count(s, b, "conv2d backward: weight", wr.grad!, wr64.grad!);
                    }
                    var (xs, ws) = (x.detach().requires_grad_(), w.detach().requires_grad_());
                    var ys = SafeConv2d.Convolve(xs, ws, s.Stride, s.Padding);
                    ys.backward([gy]);
                    Count(s, b, "SafeConv2d", ys, nn.functional.conv2d(x64, w64, strides: stride, padding: pad));
                    Count(s, b, "SafeConv2d backward: input", xs.grad!, xr64.grad!);
                    Count(s, b, "SafeConv2d backward: weight", ws.grad!, wr64.grad!);
                }
            progress?.Invoke($"round {r + 1}/{repeats}: {tallies.Values.Sum(t => t.NonFinite)} non-finite, {tallies.Values.Sum(t => t.Wrong)} wrong of {tallies.Values.Sum(t => t.Calls)} calls");
        }
        return tallies.Select(kv => new Tally(kv.Key.Item1, kv.Key.Item2, kv.Key.Item3, kv.Value.Calls, kv.Value.NonFinite, kv.Value.Wrong, kv.Value.Worst))
            .OrderBy(t => t.Site).ThenBy(t => t.Batch).ThenBy(t => t.Call).ToList();
    }
}

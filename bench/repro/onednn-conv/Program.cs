// Two float32 CPU convolutions of libtorch 2.10 (oneDNN 3.7.1) against the same call in float64 (which libtorch
// computes with its own kernels, not oneDNN). Prints one line per case: calls, non-finite results, wrong results
// (max relative error above 1e-3) and the worst error. Found by `learngene bench conv-stress`.
using TorchSharp;
using static TorchSharp.torch;

int calls = args.Length > 0 ? int.Parse(args[0]) : 20;
// Two threads unless OMP_NUM_THREADS says otherwise (a control: one thread rules out a race).
if (Environment.GetEnvironmentVariable("OMP_NUM_THREADS") is null) torch.set_num_threads(2);
Console.WriteLine($"libtorch {torch.__version__}, {calls} calls per case, {torch.get_num_threads()} threads");

// 1. A forward convolution whose input channels (24 or 100) are not a multiple of the vector block, with a large
//    (28x28) kernel: the shape of a weight gradient computed as a convolution (batch as channels).
foreach (int channels in new[] { 16, 24, 64, 100 })
    Check($"forward: input [1,{channels},30,30], kernel [8,{channels},28,28]", () =>
    {
        var (x, w) = (torch.randn(1, channels, 30, 30), torch.randn(8, channels, 28, 28) / 28);
        return (nn.functional.conv2d(x, w), nn.functional.conv2d(x.to_type(ScalarType.Float64), w.to_type(ScalarType.Float64)));
    });

// 2. The input gradient of an ordinary padded 3x3 convolution (ResNet stem: 1 -> 8 channels, 28x28, batch 64).
Check("backward (input gradient): input [64,1,28,28], kernel [8,1,3,3], padding 1", () =>
{
    var (x, w, g) = (torch.randn(64, 1, 28, 28), torch.randn(8, 1, 3, 3) / 3, torch.randn(64, 8, 28, 28));
    Tensor Grad(ScalarType type)
    {
        var xr = x.to_type(type).detach().requires_grad_();
        nn.functional.conv2d(xr, w.to_type(type), padding: [1, 1]).backward([g.to_type(type)]);
        return xr.grad!;
    }
    return (Grad(ScalarType.Float32), Grad(ScalarType.Float64));
});

void Check(string what, Func<(Tensor Float32, Tensor Float64)> call)
{
    int nonFinite = 0, wrong = 0;
    double worst = 0;
    for (int i = 0; i < calls; i++)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(i);
        var (got, reference) = call();
        bool finite = got.isfinite().all().item<bool>();
        double error = finite ? ((got.to_type(ScalarType.Float64) - reference).abs().max() / reference.abs().max()).item<double>() : double.PositiveInfinity;
        nonFinite += finite ? 0 : 1;
        wrong += error > 1e-3 ? 1 : 0;
        worst = Math.Max(worst, error);
    }
    Console.WriteLine($"{what}: {calls} calls, {nonFinite} non-finite, {wrong} wrong, worst relative error {worst:E1}");
}

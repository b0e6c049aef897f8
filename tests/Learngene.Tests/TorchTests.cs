using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Tests;

public class TorchTests
{
    [Fact]
    public void Torch_loads_and_multiplies_matrices()
    {
        var a = torch.tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2);
        var b = torch.tensor(new float[] { 5, 6, 7, 8 }).reshape(2, 2);
        Assert.Equal(new float[] { 19, 22, 43, 50 }, torch.matmul(a, b).data<float>().ToArray());
    }

    [Fact]
    public void Backward_gives_the_analytic_gradient()
    {
        var x = torch.tensor(new float[] { 1, 2, 3 }, requires_grad: true);
        (x * x).sum().backward();
        Assert.Equal(new float[] { 2, 4, 6 }, x.grad!.data<float>().ToArray());
    }
}

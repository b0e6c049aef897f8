using Learngene.Methods.Kind;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Tests.Methods.Kind;

/// <summary>KIND's SVD-form layer and class gate (docs/methods/kind.md).</summary>
public class SvdLinearTests
{
    static SvdLinear Random(int rG = 3, int rT = 2, int blocks = 3, int inF = 6, int outF = 5, int seed = 0)
    {
        var layer = new SvdLinear(inF, outF, rG, rT, blocks);
        var g = new Generator((ulong)seed);
        using var _ = torch.no_grad();
        foreach (var p in layer.parameters()) p.copy_(torch.randn(p.shape, generator: g));
        return layer;
    }

    [Fact]
    public void A_rank_above_the_matrixs_singular_components_is_refused_when_loading_a_dense_matrix()
    {
        using var scope = torch.NewDisposeScope();
        // 3 + 2·2 = 7 components for a 5×6 matrix, which has 5: two would start at u = v = s = 0 and never train.
        using var layer = new SvdLinear(6, 5, 3, 2, 2);
        var e = Assert.Throws<LearngeneException>(() => layer.LoadDense(torch.randn(5, 6), torch.zeros(5)));
        Assert.Contains("has 5 singular components", e.Message);
        using var fits = new SvdLinear(6, 5, 3, 1, 2);
        fits.LoadDense(torch.randn(5, 6), torch.zeros(5)); // 5 components: every one a singular direction
        Assert.True(fits.S.abs().min().item<float>() > 0);
    }

    [Fact]
    public void Random_tailors_train_from_the_first_step_and_zero_singular_values_leave_their_directions_still()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(8, 5, 6, generator: new Generator(1));
        var gate = torch.zeros(8, 9); // rank 3 + 3 blocks of 2
        gate.narrow(1, 0, 3).fill_(1); // the learngenes
        gate.narrow(1, 3, 2).fill_(1); // tailor block 0
        foreach (bool zero in new[] { false, true })
        {
            using var layer = Random();
            layer.InitializeTailors(new Generator(2), zeroSingularValues: zero);
            layer.forward(x, gate).square().sum().backward();
            var (u, s, v) = (layer.Tailors.ElementAt(0).grad!, layer.Tailors.ElementAt(1).grad!, layer.Tailors.ElementAt(2).grad!);
            double block0 = u.narrow(1, 0, 2).norm().item<float>() + v.narrow(1, 0, 2).norm().item<float>();
            Assert.True(s.narrow(0, 0, 2).norm().item<float>() > 0); // s moves either way
            if (zero) Assert.Equal(0.0, block0);
            else Assert.True(block0 > 1e-3, $"tailor directions get no gradient ({block0})");
            var start = layer.Tailors.ElementAt(1).detach();
            Assert.True(zero ? start.abs().max().item<float>() == 0 : start.allclose(torch.full(6, layer.FreshSingularValue)));
        }
    }

    [Fact]
    public void An_svd_form_layer_equals_its_dense_matrix()
    {
        using var scope = torch.NewDisposeScope();
        using var layer = Random();
        var x = torch.randn(4, 7, 6);
        var dense = nn.functional.linear(x, layer.Weight(), layer.Bias);
        Assert.True(layer.forward(x, null).allclose(dense, atol: 1e-5));

        // Loaded from a dense matrix at full rank, it reproduces that matrix.
        var w = torch.randn(5, 6);
        var b = torch.randn(5);
        using var full = new SvdLinear(6, 5, 3, 1, 2);
        full.LoadDense(w, b);
        Assert.True(full.Weight().allclose(w, atol: 1e-5));
        Assert.True(full.forward(x, null).allclose(nn.functional.linear(x, w, b), atol: 1e-4));
    }

    [Fact]
    public void The_rank_space_gated_forward_equals_each_classs_dense_matrix_applied_sample_by_sample()
    {
        using var scope = torch.NewDisposeScope();
        using var layer = Random();
        var gate = new ClassGate(3, 2, [0, 2, 1, 2]); // four classes, the second and fourth share block 2
        var labels = torch.tensor(new long[] { 0, 1, 2, 3, 4, 1 }); // 4 is the null class: learngenes only
        var x = torch.randn(6, 7, 6);
        var gates = gate.Of(labels);
        var y = layer.forward(x, gates);
        for (int i = 0; i < 6; i++)
        {
            var expected = nn.functional.linear(x[i], layer.Weight(gates[i]), layer.Bias);
            Assert.True(y[i].allclose(expected, atol: 1e-5), $"sample {i}");
        }
        Assert.Equal(3f, gates[4].sum().item<float>());
        Assert.True(gates[1].allclose(gates[3]) && gates[1].allclose(gates[5]));
    }

    [Fact]
    public void With_a_classs_gate_the_gradient_reaches_only_the_learngenes_and_that_classs_tailors()
    {
        using var scope = torch.NewDisposeScope();
        using var layer = Random();
        var gate = new ClassGate(3, 2, [0, 1, 2]);
        var x = torch.randn(4, 7, 6);
        layer.forward(x, gate.Of(torch.full(4, 1L))).square().sum().backward();
        // Every learngene component gets a gradient.
        foreach (var p in layer.Learngenes) Assert.True(p.grad!.abs().min().item<float>() > 0 || p.dim() > 1 && p.grad!.abs().sum(0).min().item<float>() > 0);
        // Of the tailors, only class 1's block [2, 4) does; the others get exactly zero.
        var (tu, ts, tv) = (layer.Tailors.ElementAt(0), layer.Tailors.ElementAt(1), layer.Tailors.ElementAt(2));
        for (int j = 0; j < 6; j++)
        {
            bool on = j is 2 or 3;
            foreach (var (name, grad) in new[] { ("u", tu.grad![.., j]), ("s", ts.grad![j]), ("v", tv.grad![.., j]) })
                Assert.True(on ? grad.abs().max().item<float>() > 0 : grad.abs().max().item<float>() == 0, $"tailor {name} component {j} ({(on ? "active" : "gated off")})");
        }
    }

    [Fact]
    public void A_fresh_layer_has_orthonormal_factors_and_a_xavier_sized_matrix()
    {
        using var scope = torch.NewDisposeScope();
        using var layer = new SvdLinear(48, 96, 8, 4, 3);
        layer.InitializeFresh(new Generator(1));
        Assert.True(layer.OrthogonalityPenalty().item<float>() < 1e-8);
        double expected = 2.0 * 48 * 96 / (48 + 96);
        Assert.Equal(expected, layer.Weight().square().sum().item<float>(), expected * 1e-4);
        Assert.Equal(0f, layer.Bias.abs().max().item<float>());

        // The penalty sees a factor that is no longer orthonormal.
        using (torch.no_grad()) layer.Learngenes.First()[0, 0] += 0.5f;
        Assert.True(layer.OrthogonalityPenalty().item<float>() > 0.1);
    }
}

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Learngene.Models.Layers;

/// <summary>DiT's timestep embedder: the sinusoidal features of t (256 frequencies, GLIDE's
/// <c>timestep_embedding</c>: [cos, sin] of t·10000^(−i/128)) through Linear → SiLU → Linear (<c>mlp.0</c>, <c>mlp.2</c>).</summary>
public sealed class TimestepEmbedder : nn.Module<Tensor, Tensor>
{
    public const int Frequencies = 256;
    private readonly Sequential mlp;

    public TimestepEmbedder(int width) : base(nameof(TimestepEmbedder))
    {
        mlp = nn.Sequential(("0", nn.Linear(Frequencies, width)), ("1", nn.SiLU()), ("2", nn.Linear(width, width)));
        RegisterComponents();
    }

    /// <summary>DiT draws both linears' weights from N(0, 0.02).</summary>
    public void InitializeMlp()
    {
        using var _ = torch.no_grad();
        foreach (var m in mlp.modules().OfType<Linear>()) nn.init.normal_(m.weight!, std: 0.02);
    }

    public static Tensor Sinusoidal(Tensor t, int dim = Frequencies, double maxPeriod = 10000)
    {
        int half = dim / 2;
        var freqs = torch.exp(-Math.Log(maxPeriod) * torch.arange(0, half, dtype: float32) / half).to(t.device);
        var args = t.to(float32).unsqueeze(1) * freqs.unsqueeze(0);
        var embedding = torch.cat([torch.cos(args), torch.sin(args)], 1);
        return dim % 2 == 1 ? torch.cat([embedding, torch.zeros_like(embedding[.., ..1])], 1) : embedding;
    }

    public override Tensor forward(Tensor t) => mlp.forward(Sinusoidal(t));
}

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Learngene.Models.Layers;

/// <summary>Linear(d, r·d) → GELU → Linear(r·d, d).</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc1;
    private readonly Linear fc2;

    public Mlp(int width, int hidden) : base(nameof(Mlp))
    {
        fc1 = nn.Linear(width, hidden);
        fc2 = nn.Linear(hidden, width);
        RegisterComponents();
    }

    /// <summary>The two linears' tensors, for a block that applies another activation (DiT's tanh GELU).</summary>
    public (Tensor W1, Tensor? B1, Tensor W2, Tensor? B2) Weights => (fc1.weight!, fc1.bias, fc2.weight!, fc2.bias);

    public override Tensor forward(Tensor x) => Compute(x, fc1.weight!, fc1.bias, fc2.weight!, fc2.bias);

    public static Tensor Compute(Tensor x, Tensor w1, Tensor? b1, Tensor w2, Tensor? b2) =>
        nn.functional.linear(nn.functional.gelu(nn.functional.linear(x, w1, b1)), w2, b2);
}

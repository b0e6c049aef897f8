using Learngene.Models.Linears;

namespace Learngene.Baselines.Tuning;

/// <summary>LoRA on a pre-trained matrix: rank <see cref="Rank"/>, update scaled by α/r (α defaults to r: scale 1).</summary>
public sealed record LoraForm : LinearForm
{
    public int Rank { get; init; } = 8;
    public double? Alpha { get; init; }
    public override BlockLinear Create(int inFeatures, int outFeatures) => new LoraLinear(inFeatures, outFeatures, Rank, (Alpha ?? Rank) / Rank, principal: false);
    public override string Describe() => $"LoRA rank {Rank}";
    public override string[] TunedTensors => ["lora_"];
}

/// <summary>PiSSA: LoRA whose adapter starts at the matrix's top <see cref="Rank"/> singular components.</summary>
public sealed record PissaForm : LinearForm
{
    public int Rank { get; init; } = 8;
    public override BlockLinear Create(int inFeatures, int outFeatures) => new LoraLinear(inFeatures, outFeatures, Rank, 1, principal: true);
    public override string Describe() => $"PiSSA rank {Rank}";
    public override string[] TunedTensors => ["lora_"];
}

/// <summary>SVDiff: the frozen SVD of a pre-trained matrix with a trainable spectral shift.</summary>
public sealed record SvdiffForm : LinearForm
{
    public override BlockLinear Create(int inFeatures, int outFeatures) => new SvdiffLinear(inFeatures, outFeatures);
    public override string Describe() => "SVDiff (spectral shift)";
    public override string[] TunedTensors => ["delta"];
}

using System.Text.Json.Serialization;
using Learngene.Models.Kind;

namespace Learngene.Models.Linears;

/// <summary>The form of a DiT's block linears (qkv, proj, fc1, fc2), stored in its config (absent: plain
/// matrices). Each form builds its layer; KIND's also gates components by class.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "form")]
[JsonDerivedType(typeof(SvdForm), "svd")]
[JsonDerivedType(typeof(LoraForm), "lora")]
[JsonDerivedType(typeof(PissaForm), "pissa")]
[JsonDerivedType(typeof(SvdiffForm), "svdiff")]
public abstract record LinearForm
{
    public abstract BlockLinear Create(int inFeatures, int outFeatures);
    public abstract string Describe();
    /// <summary>The per-sample gate of a class-gated form; null for the others.</summary>
    public virtual ClassGate? Gate => null;
    /// <summary>Whether the attention's q, k and v are three matrices of this form rather than one stacked matrix.</summary>
    [JsonIgnore] public virtual bool SeparateQkv => false;
    /// <summary>Name fragments of the tensors the form adds for tuning (what a tuned model trains).</summary>
    public virtual string[] TunedTensors => [];
    internal virtual void Validate(int classes) { }
}

/// <summary>KIND's SVD form: <see cref="LearngeneRank"/> learngene components and, per class group, a tailor
/// block of <see cref="TailorRank"/> components; <see cref="TailorOf"/> maps each class to its block
/// (several classes may share one; −1: learngenes only). <see cref="Orthogonality"/> weights a penalty
/// ‖UᵀU − I‖² + ‖VᵀV − I‖² added to the loss (0: off, the default — it would couple every component and
/// so break the class gate's separation of gradients).</summary>
public sealed record SvdForm : LinearForm
{
    public int LearngeneRank { get; init; }
    public int TailorRank { get; init; }
    public int[] TailorOf { get; init; } = [];
    /// <summary>The tailor block of the null class (the unconditional branch of classifier-free guidance);
    /// −1, the default: the learngenes alone.</summary>
    public int NullTailor { get; init; } = -1;
    public double Orthogonality { get; init; }
    /// <summary>q, k and v decomposed each on its own (the authors' DivControl, which follows KIND's decomposition,
    /// states it so); false, in files made before the choice existed: one decomposition of the stacked qkv.</summary>
    public bool Separate { get; init; }
    [JsonIgnore] public override bool SeparateQkv => Separate;

    [JsonIgnore] public int TailorBlocks => Math.Max(TailorOf.Length == 0 ? -1 : TailorOf.Max(), NullTailor) + 1;
    public override ClassGate Gate => new(LearngeneRank, TailorRank, TailorOf, NullTailor);
    public override BlockLinear Create(int inFeatures, int outFeatures) => new SvdLinear(inFeatures, outFeatures, LearngeneRank, TailorRank, TailorBlocks);
    public override string Describe() => $"SVD form: {LearngeneRank} learngene + {TailorBlocks}×{TailorRank} tailor components" + (Separate ? " per matrix (q, k, v apart)" : "");
    public override string[] TunedTensors => ["tailor_"];

    /// <summary>Tailor blocks in class order, one per class.</summary>
    public static SvdForm OnePerClass(int learngeneRank, int tailorRank, int classes) =>
        new() { LearngeneRank = learngeneRank, TailorRank = tailorRank, TailorOf = Enumerable.Range(0, classes).ToArray() };

    internal override void Validate(int classes)
    {
        if (LearngeneRank < 0 || TailorRank < 0 || LearngeneRank + TailorRank * TailorBlocks < 1)
            throw new LearngeneException($"an SVD-form DiT needs components (learngene rank {LearngeneRank}, tailor rank {TailorRank})", setting: "rank");
        if (TailorOf.Length != classes)
            throw new LearngeneException($"the class→tailor map has {TailorOf.Length} entries for {classes} classes", setting: "tailors");
        if (TailorOf.Any(b => b < -1)) throw new LearngeneException("a class's tailor block must be −1 (none) or a block index", setting: "tailors");
        if (NullTailor < -1) throw new LearngeneException("the null class's tailor block must be −1 (none) or a block index", setting: "tailors");
        if (Orthogonality < 0) throw new LearngeneException($"the orthogonality weight must not be negative (got {Orthogonality})", setting: "orthogonality");
    }
}

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

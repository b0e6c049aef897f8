using System.Text.Json.Serialization;
using Learngene.Models.Linears;

namespace Learngene.Methods.Kind;

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

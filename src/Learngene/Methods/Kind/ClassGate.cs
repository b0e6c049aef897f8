using Learngene.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Methods.Kind;

/// <summary>Which components a class switches on (KIND's class gate, docs/methods/kind.md): the learngene components
/// always, and the tailor block its class maps to (many classes may share a block). The null class of
/// classifier-free guidance uses the learngenes alone — the class-agnostic part — unless it is given a block
/// of its own (<see cref="NullBlock"/>, an option of this project: a transfer then adapts the unconditional
/// branch too); a label with no block uses the learngenes alone.</summary>
public sealed class ClassGate
{
    public int LearngeneRank { get; }
    public int TailorRank { get; }
    public int TailorBlocks { get; }
    /// <summary>Class index → tailor block (−1: none).</summary>
    public IReadOnlyList<int> BlockOf { get; }

    /// <summary>The null class's tailor block (−1: none).</summary>
    public int NullBlock { get; }

    public ClassGate(int learngeneRank, int tailorRank, IReadOnlyList<int> blockOf, int nullBlock = -1)
    {
        if (blockOf.Any(b => b < -1) || nullBlock < -1) throw new LearngeneException("a class's tailor block must be −1 (none) or a block index", setting: "tailors");
        (LearngeneRank, TailorRank, BlockOf, NullBlock) = (learngeneRank, tailorRank, blockOf.ToArray(), nullBlock);
        TailorBlocks = Math.Max(blockOf.Count == 0 ? -1 : blockOf.Max(), nullBlock) + 1;
    }

    public int Rank => LearngeneRank + TailorRank * TailorBlocks;

    /// <summary>Gates [N, r] (float, 0 or 1) for class labels [N].</summary>
    public Tensor Of(Tensor labels)
    {
        var table = new float[(BlockOf.Count + 1) * Rank]; // one row per class and a last row for "no class"
        for (int c = 0; c <= BlockOf.Count; c++)
        {
            for (int j = 0; j < LearngeneRank; j++) table[c * Rank + j] = 1;
            int block = c < BlockOf.Count ? BlockOf[c] : NullBlock;
            if (block >= 0)
                for (int j = 0; j < TailorRank; j++) table[c * Rank + LearngeneRank + block * TailorRank + j] = 1;
        }
        using var rows = torch.tensor(table).view(BlockOf.Count + 1, Rank).to(labels.device);
        using var index = labels.clamp_max(BlockOf.Count).to(int64); // the null class (and beyond) → the last row
        return rows.index_select(0, index);
    }
}

namespace Learngene.Methods.Pool;

/// <summary>A stitched family of the experiment: its name, "pool" or "sn-net", its stitch initialization
/// (learned, learned-pinv, ls, scratch), which members it stitches ("neighbours": each to the next wider,
/// SN-Net's rule; "ends": only the narrowest and the widest, the narrowest into the widest, as Learngene Pool's
/// code does) and its fine-tuning ("ce+kd": 0.5·CE + 0.5·soft KD with the preset's cosine schedule; "ce":
/// plain cross-entropy at a constant learning rate, the authors' <c>main.py</c>).</summary>
public sealed record StitchedFamily(string Name, string Family, string StitchInit, string Pairs = "neighbours", string Finetuning = "ce+kd")
{
    public string Describe() => Finetuning == "ce" ? "plain cross-entropy, constant learning rate" : "0.5·CE + 0.5·soft KD, cosine schedule";
}

/// <summary>The stitched families <c>bench pool</c> runs, and the pool families <c>learn pool</c> can train.</summary>
public static class StitchedFamilies
{
    public static readonly StitchedFamily[] All =
    [
        new("pool-learned", "pool", "learned"), new("pool-learned-pinv", "pool", "learned-pinv"), new("pool-ls", "pool", "ls"),
        new("pool-scratch", "pool", "scratch"), new("pool-authors", "pool", "learned", Pairs: "ends", Finetuning: "ce"), new("sn-net", "sn-net", "ls"),
    ];

    public static readonly string[] StitchInits = ["learned", "learned-pinv", "ls", "scratch"];

    /// <summary>The family names <c>bench pool --families</c> accepts.</summary>
    public static IEnumerable<string> FamilyNames => All.Select(f => f.Name);

    /// <summary>The experiment's families by name, or a clear error naming the known ones.</summary>
    public static List<StitchedFamily> Find(IEnumerable<string> names) => names.Select(n => All.FirstOrDefault(f => f.Name == n)
        ?? throw new LearngeneException($"unknown stitched family '{n}' (known: {string.Join(", ", FamilyNames)})", setting: "families")).ToList();

    /// <summary>A pool family of any stitch initialization and pairing (what <c>learn pool</c> trains).</summary>
    public static StitchedFamily PoolFamily(string stitchInit, string pairs)
    {
        if (!StitchInits.Contains(stitchInit)) throw new LearngeneException($"unknown stitch initialization '{stitchInit}' (expected {string.Join(", ", StitchInits)})", setting: "stitch-init");
        if (pairs is not ("neighbours" or "ends")) throw new LearngeneException($"unknown pairing '{pairs}' (expected neighbours or ends)", setting: "pairs");
        return new($"pool-{stitchInit}{(pairs == "ends" ? "-ends" : "")}", "pool", stitchInit, pairs);
    }
}

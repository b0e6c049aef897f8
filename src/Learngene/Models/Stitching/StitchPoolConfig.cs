using Learngene.Models;

namespace Learngene.Models.Stitching;

/// <summary>A stitchable family: models of equal depth, patch grid and pooling but different widths
/// (Learngene Pool's distilled instances, or SN-Net's anchors), the (front, end) model pairs stitched, and
/// one linear stitch layer per pair and window (<see cref="StitchLayout"/>).</summary>
public sealed record StitchPoolConfig : ModelConfig
{
    public override string Family => "stitch-pool";
    public VitConfig[] Models { get; init; } = [];
    /// <summary>(front, end) indices into <see cref="Models"/>; default: each model to the next wider one.</summary>
    public int[][] Pairs { get; init; } = [];

    public int Depth => Models.Length == 0 ? 0 : Models[0].Depth;

    /// <summary>Models ordered by width; pairs between width neighbours, narrow to wide (SN-Net's rule).</summary>
    public static StitchPoolConfig Neighbours(IReadOnlyList<VitConfig> models)
    {
        var ordered = models.OrderBy(m => m.Width).ToArray();
        return new StitchPoolConfig
        {
            Models = ordered, Pairs = Enumerable.Range(0, ordered.Length - 1).Select(i => new[] { i, i + 1 }).ToArray(),
            ImageSize = ordered[0].ImageSize, Channels = ordered[0].Channels, Classes = ordered[0].Classes,
        };
    }

    /// <summary>Models ordered by width; one pair, the narrowest into the widest (Learngene Pool's code
    /// stitches its Ti instance into its B instance only).</summary>
    public static StitchPoolConfig Ends(IReadOnlyList<VitConfig> models)
    {
        var neighbours = Neighbours(models);
        return neighbours with { Pairs = neighbours.Models.Length < 2 ? [] : [[0, neighbours.Models.Length - 1]] };
    }

    /// <summary>The pool of the given models under a pairing rule: "neighbours" or "ends".</summary>
    public static StitchPoolConfig Paired(IReadOnlyList<VitConfig> models, string pairs) => pairs switch
    {
        "neighbours" => Neighbours(models),
        "ends" => Ends(models),
        _ => throw new LearngeneException($"unknown pairing '{pairs}' (expected neighbours or ends)", setting: "pairs"),
    };

    public IReadOnlyList<StitchConfig> Configurations() => StitchLayout.Enumerate(Models.Length, Depth, Pairs.Select(p => (p[0], p[1])).ToArray());

    public override (double Parameters, double ActivationsPerImage) Size() =>
        (Models.Sum(m => m.Size().Parameters), Models.Select(m => m.Size().ActivationsPerImage).DefaultIfEmpty(0).Max());

    protected override void ValidateFamily()
    {
        Require(Models.Length >= 1, "a pool needs at least one model");
        foreach (var m in Models) m.Validate();
        Require(Models.All(m => m.Depth == Depth && m.PatchSize == Models[0].PatchSize && m.Pooling == Models[0].Pooling && m.ImageSize == ImageSize && m.Channels == Channels && m.Classes == Classes),
            "the models of a pool share depth, patch size, pooling, input and classes");
        Require(Pairs.All(p => p.Length == 2 && p[0] != p[1] && p.All(i => i >= 0 && i < Models.Length)), "every pair names two different models of the pool");
    }

    public override int SizeStep() => Models.Length == 0 ? 1 : Models[0].PatchSize;

    public override ModelConfig WithData(int imageSize, int channels, int classes) => this with
    {
        ImageSize = imageSize,
        Channels = channels,
        Classes = classes,
        Models = Models.Select(m => (VitConfig)m.WithData(imageSize, channels, classes)).ToArray(),
    };

    public override string Describe() =>
        $"stitch pool of {Models.Length} models (widths {string.Join(", ", Models.Select(m => m.Width))}, depth {Depth}), {Pairs.Length} stitched pairs, {Configurations().Count} configurations";

    /// <summary>The architecture of one configuration as an ordinary model.</summary>
    public ModelConfig Architecture(StitchConfig c) => c.IsInstance ? Models[c.Front]
        : new StitchedVitConfig { Front = Models[c.Front], End = Models[c.End], FrontBlocks = c.FrontLast + 1, EndStart = c.EndFirst, ImageSize = ImageSize, Channels = Channels, Classes = Classes };
}

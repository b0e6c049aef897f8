namespace Learngene.Methods.Kind;

/// <summary>KIND (docs/methods/kind.md) through the method contract. Its file holds a pre-trained DiT in SVD
/// form: the class-agnostic learngene components, each pre-training class's tailor block and the shared parts.
/// Expanding recombines: the learngenes plus the chosen classes' tailors (or none), one diffusion model file.
/// Transfer to new classes, with fresh tailors, is a training run ('train kind').</summary>
public sealed class KindMethod : ILearngeneMethod
{
    public string Name => KindGene.Method;
    public string Description => "KIND: a diffusion transformer in SVD form whose components a class gate splits into learngenes and class tailors";
    public string Stores => "the SVD-form DiT: learngene components, one tailor block per pre-training class, embeddings, adaLN and final layer";

    public IReadOnlyList<Setting> ExpandSettings =>
        [new("tailors", "KIND: recombine the learngenes with these pre-training classes' tailors (indices, e.g. 0,3; none: the learngenes alone)")];

    public Expansion Expand(string genePath, ExpandRequest request)
    {
        string kept = request.Text("tailors")
            ?? throw new LearngeneException($"{genePath} is a kind learngene: it recombines with --tailors (pre-training class indices, or none), it has no depths", setting: "tailors");
        var classes = kept.Trim().Equals("none", StringComparison.OrdinalIgnoreCase) ? [] : ParseIndices(kept, "--tailors")!;
        string name = classes.Length == 0 ? "learngenes-only" : "tailors-" + string.Join("-", classes);
        var made = KindRuns.Recombine(genePath, classes, Path.Combine(request.OutDir, name + ".safetensors"));
        return new Expansion([new Descendant(made.Path, made.Parameters, made.MacsPerImage, $"learngenes + tailors of [{string.Join(", ", made.ClassNames)}], rank {made.Rank}")],
            "1 model recombined (MACs per denoising step and image)");
    }

    public IReadOnlyList<string> Describe(string genePath)
    {
        using var gene = KindGene.Load(genePath);
        var form = gene.Form;
        long stored = gene.Network.parameters().Sum(p => p.numel());
        var tailored = Enumerable.Range(0, gene.Info.ClassNames.Length).Where(c => c < form.TailorOf.Length && form.TailorOf[c] >= 0).Select(c => gene.Info.ClassNames[c]);
        return
        [
            $"learngene (kind): {stored:N0} stored parameters, {Stores}",
            $"learngene rank {form.LearngeneRank}, {form.TailorBlocks} tailor blocks of rank {form.TailorRank} (q, k, v {(form.Separate ? "decomposed apart" : "as one matrix")}); " +
                $"tailors of: {string.Join(", ", tailored)}; pre-trained on {gene.Info.SourceData}, {gene.Info.ImagesSeen:N0} images seen ({gene.Diffusion.Prediction} target)",
            "expands by recombination ('expand --tailors 0,3' or 'none') and transfers to new classes with fresh tailors ('train kind')",
        ];
    }

    /// <summary>"0,3" → [0, 3], with one clear error naming the option for anything else.</summary>
    public static int[]? ParseIndices(string? text, string option)
    {
        if (text is null) return null;
        return text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(x => int.TryParse(x, out int k) ? k : throw new LearngeneException($"'{x}' in {option} is not an index (expected e.g. 0,1,2)")).ToArray();
    }
}

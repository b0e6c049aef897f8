using System.Diagnostics;
using Learngene.Baselines.Initializers;
using Learngene.Data;
using Learngene.IO;
using Learngene.Methods;
using Learngene.Models;
using TorchSharp;

namespace Learngene.Runs;

/// <summary><c>learngene expand</c>: initialized descendants written as model files (depth-NN.safetensors),
/// from a learngene or from a baseline initializer and its ancestry.</summary>
public static class ExpandRun
{
    public sealed record Written(string Path, int Depth, long Parameters, long MacsPerImage);

    /// <summary>The files, the time expansion alone took, the time writing took, and the learngene's
    /// stored parameters (0 for an initializer).</summary>
    public sealed record Outcome(IReadOnlyList<Written> Files, double ExpandSeconds, double WriteSeconds, long StoredParameters);

    /// <summary>The descendants' label space: the source's class names when it is the same (same count, no
    /// fresh head), else new classes named by index.</summary>
    public static IReadOnlyList<string> ClassNames(int classes, IReadOnlyList<string> sourceNames, bool freshHead) =>
        classes == sourceNames.Count && !freshHead ? sourceNames : Enumerable.Range(0, classes).Select(i => i.ToString()).ToArray();

    /// <summary>One descendant per depth (or one for an explicit layer mapping, which sets the depth).</summary>
    public static Outcome FromGene(string genePath, IReadOnlyList<int> depths, int[]? layerSources, int? classes, int? width, bool freshHead, int seed, string dir)
    {
        torch.manual_seed(seed);
        using var gene = LearngeneFile.Load(genePath);
        var method = LearngeneMethods.FindAuxiliary(gene.Info.Method);
        var arch = gene.Info.Architecture;
        if (width is int w && w != arch.Width)
            throw new LearngeneException($"the learngene has width {arch.Width}; {method.Name} expands depth only, so descendants have width {arch.Width}, not {w}", setting: "width");
        int n = CheckedClasses(classes ?? arch.Classes);
        var specs = layerSources is null ? depths.Select(DescendantSpec.OfDepth).ToArray() : [new DescendantSpec($"d{layerSources.Length:D2}", layerSources.Length, layerSources)];
        var clock = Stopwatch.StartNew();
        var models = specs.Select(s => method.Build(gene, s, n, sameLabelSpace: !freshHead)).ToList();
        double expandSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var files = Write(models, dir, gene.Info.Normalization, ClassNames(n, gene.Info.ClassNames, freshHead),
            new() { ["learngene"] = gene.Path, ["method"] = method.Name, ["data"] = gene.Info.SourceData });
        return new Outcome(files, expandSeconds, clock.Elapsed.TotalSeconds, method.StoredParameters(gene));
    }

    /// <summary>One descendant per depth by a baseline initializer, in the ancestry's architecture (a
    /// narrower width keeps the ancestry's head width).</summary>
    public static Outcome FromInitializer(IInitializer initializer, string? ancestryPath, IReadOnlyList<int> depths, int? classes, int? width,
        bool freshHead, int seed, string dir)
    {
        if (ancestryPath is null)
            throw new LearngeneException($"expanding with {initializer.Name} needs an ancestry model (for its architecture{(initializer.NeedsAncestry ? " and weights" : "")})", setting: "ancestry");
        if (initializer is AutoLg) throw new LearngeneException("auto-lg chooses layers on the task's data: train with it instead (train, with the initializer auto-lg, an ancestry and the task's data)", setting: "init");
        torch.manual_seed(seed);
        var ancestry = ModelFile.Load(ancestryPath);
        try
        {
            var c = ancestry.Model.Config as VitConfig
                ?? throw new LearngeneException($"{ancestryPath}: {initializer.Name} takes weights from a ViT, not a {ancestry.Model.Config.Family}", setting: "ancestry");
            int n = CheckedClasses(classes ?? c.Classes);
            var arch = c.Narrowed(width ?? c.Width) with { Classes = n };
            var context = new InitContext { Ancestry = ancestry, AncestryPath = ancestryPath, SameLabelSpace = !freshHead, Seed = seed };
            var clock = Stopwatch.StartNew();
            var models = depths.Select(d => (Classifier)initializer.Create(arch with { Depth = d }, context)).ToList();
            double expandSeconds = clock.Elapsed.TotalSeconds;
            clock.Restart();
            var files = Write(models, dir, ancestry.Normalization, ClassNames(n, ancestry.ClassNames, freshHead), new() { ["init"] = initializer.Name, ["ancestry"] = ancestryPath });
            return new Outcome(files, expandSeconds, clock.Elapsed.TotalSeconds, 0);
        }
        finally { ancestry.Model.Dispose(); }
    }

    static int CheckedClasses(int n) => n >= 1 ? n : throw new LearngeneException($"classes must be at least 1 (got {n})", setting: "classes");

    static List<Written> Write(List<Classifier> models, string dir, Normalization norm, IReadOnlyList<string> names, Dictionary<string, string> provenance)
    {
        var files = new List<Written>();
        foreach (var model in models)
        {
            int depth = (model.Config as VitConfig)?.Depth ?? 0;
            string path = Path.Combine(dir, $"depth-{depth:D2}.safetensors");
            ModelFile.Save(path, model, norm, names, provenance);
            files.Add(new Written(path, depth, model.ParameterCount(), model.MacsPerImage()));
            model.Dispose();
        }
        return files;
    }
}

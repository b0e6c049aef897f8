using System.CommandLine;
using System.Diagnostics;
using Learngene.Bench;
using Learngene.Genes;
using Learngene.Init;
using Learngene.IO;
using Learngene.Models;
using TorchSharp;

namespace Learngene.Cli;

/// <summary><c>learngene expand GENE --depths 1..12</c>: one initialized descendant model file per depth;
/// or <c>learngene expand --init NAME --ancestry FILE</c> for the baseline initializers.</summary>
static class ExpandCommand
{
    public static Command Create()
    {
        var gene = new Argument<string?>("GENE") { Description = "A learngene file (omit with --init)", Arity = ArgumentArity.ZeroOrOne };
        var depths = new Option<string>("--depths") { Description = "Depths: a range 1..12, a list 2,4,6, or both (1..4,8,12)", DefaultValueFactory = _ => "1..12" };
        var classes = new Option<int?>("--classes") { Description = "Classes of the descendants (default: the learngene's); another count gets a fresh head" };
        var width = new Option<int?>("--width") { Description = "Width of the descendants: must be the learngene's (TLEG and SWS expand depth only); weight selection may narrow" };
        var freshHead = new Option<bool>("--fresh-head") { Description = "A fresh head even when the class count matches (another label space, e.g. a transfer task)" };
        var layersSource = new Option<string?>("--layers-source") { Description = "SWS: the stage each layer copies, e.g. 0,0,0,1,1,1,2,2,3,3,4,4 (the authors' 12-layer mapping); sets the depth. " +
            "Default rule: one layer per stage, the other L'-5 shared out in proportion to the stage sizes (largest remainder); below 5 layers, evenly spaced stages from first to last" };
        var init = new Option<string?>("--init") { Description = $"A baseline initializer instead of a learngene: {string.Join(", ", Initializers.Registry.All.Select(i => i.Name))} (the architecture is the ancestry's, at each depth)" };
        var ancestry = new Option<string?>("--ancestry") { Description = "The trained ViT model file --init takes weights from" };
        var inherit = new Option<int>("--inherit") { Description = "Layers heur-lg and auto-lg inherit", DefaultValueFactory = _ => 3 };
        var wsLayers = Shared.WsLayers();
        var wsElements = Shared.WsElements();
        var seed = new Option<int>("--seed") { Description = "Seed for the fresh parts", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out") { Description = "Folder for depth-NN.safetensors", DefaultValueFactory = _ => "descendants" };
        var cmd = new Command("expand", "Expand a learngene (or apply a baseline initializer) into initialized descendants of the given depths: model files usable with 'train --init'.");
        cmd.Arguments.Add(gene);
        foreach (var o in new Option[] { depths, classes, width, freshHead, layersSource, init, ancestry, inherit, wsLayers, wsElements, seed, output }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            torch.manual_seed(r.GetValue(seed));
            string dir = r.GetValue(output)!;
            if (r.GetValue(init) is string initName)
            {
                if (r.GetValue(gene) is not null) throw new LearngeneException("give either a learngene file or --init, not both");
                FromInitializer(Initializers.Registry.Find(initName), r.GetValue(ancestry), DepthList.Parse(r.GetValue(depths)!), r.GetValue(classes), r.GetValue(width),
                    r.GetValue(freshHead), r.GetValue(inherit), Shared.WsRules(r, wsLayers, wsElements), r.GetValue(seed), dir);
                return 0;
            }
            string genePath = r.GetValue(gene) ?? throw new LearngeneException("give a learngene file to expand, or --init NAME --ancestry FILE");
            using var loaded = LearngeneFile.Load(genePath);
            var method = Methods.Registry.Find(loaded.Info.Method);
            var arch = loaded.Info.Architecture;
            if (r.GetValue(width) is int w && w != arch.Width)
                throw new LearngeneException($"the learngene has width {arch.Width}; {method.Name} expands depth only, so descendants have width {arch.Width}, not {w}");
            int n = r.GetValue(classes) ?? arch.Classes;
            if (n < 1) throw new LearngeneException($"--classes must be at least 1 (got {n})");
            int[]? mapping = r.GetValue(layersSource) is string ls ? Genes.Sws.SwsLayout.Parse(ls) : null;
            var list = mapping is null ? DepthList.Parse(r.GetValue(depths)!) : [mapping.Length];
            var names = n == arch.Classes && !r.GetValue(freshHead) ? loaded.Info.ClassNames : Enumerable.Range(0, n).Select(i => i.ToString()).ToArray();
            // Expansion first (timed alone), then the files.
            var expandClock = Stopwatch.StartNew();
            var models = list.Select(depth => method.Expand(loaded, depth, n, sameLabelSpace: !r.GetValue(freshHead), mapping)).ToList();
            double expandSeconds = expandClock.Elapsed.TotalSeconds;
            var writeClock = Stopwatch.StartNew();
            Write(models, dir, loaded.Info.Normalization, names, new() { ["learngene"] = loaded.Path, ["method"] = method.Name, ["data"] = loaded.Info.SourceData });
            Console.WriteLine($"{list.Count} descendants expanded in {expandSeconds:F3} s and written in {writeClock.Elapsed.TotalSeconds:F2} s (learngene: {method.StoredParameters(loaded):N0} stored parameters)");
            return 0;
        });
        return cmd;
    }

    static void FromInitializer(IInitializer initializer, string? ancestryPath, IReadOnlyList<int> depths, int? classes, int? width, bool freshHead, int inherit, WeightSelectionRules rules, int seed, string dir)
    {
        if (ancestryPath is null)
            throw new LearngeneException($"expand --init {initializer.Name} needs --ancestry FILE (for its architecture{(initializer.NeedsAncestry ? " and weights" : "")}); 'train --init {initializer.Name}' needs none for scratch and mimetic");
        var ancestry = ModelFile.Load(ancestryPath);
        try
        {
            var c = ancestry.Model.Config;
            int n = classes ?? c.Classes;
            if (n < 1) throw new LearngeneException($"--classes must be at least 1 (got {n})");
            var arch = c with { Classes = n, Width = width ?? c.Width, Heads = width is int w && w != c.Width ? Math.Max(1, w / (c.Width / c.Heads)) : c.Heads };
            var context = new InitContext { Ancestry = ancestry, AncestryPath = ancestryPath, SameLabelSpace = !freshHead, InheritLayers = inherit, Seed = seed, WeightSelection = rules };
            if (initializer is AutoLg) throw new LearngeneException("auto-lg chooses layers on the task's data: use 'train --init auto-lg --ancestry FILE --data …'");
            var models = depths.Select(d => initializer.Create(arch with { Depth = d }, context)).ToList();
            var names = n == c.Classes && !freshHead ? ancestry.ClassNames : Enumerable.Range(0, n).Select(i => i.ToString()).ToArray();
            Write(models, dir, ancestry.Normalization, names, new() { ["init"] = initializer.Name, ["ancestry"] = ancestryPath });
        }
        finally { ancestry.Model.Dispose(); }
    }

    static void Write(List<VisionTransformer> models, string dir, Data.Normalization norm, IReadOnlyList<string> names, Dictionary<string, string> provenance)
    {
        foreach (var model in models)
        {
            int depth = model.Config.Depth;
            string path = Path.Combine(dir, $"depth-{depth:D2}.safetensors");
            ModelFile.Save(path, model, norm, names, provenance);
            Console.WriteLine($"depth {depth,2}: {model.ParameterCount():N0} parameters, {model.MacsPerImage() / 1e6:F1} M MACs/image → {path}");
            model.Dispose();
        }
    }
}

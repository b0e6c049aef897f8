using System.CommandLine;
using System.Diagnostics;
using Learngene.Genes;
using Learngene.IO;
using TorchSharp;

namespace Learngene.Cli;

/// <summary><c>learngene expand GENE --depths 1..12</c>: one initialized descendant model file per depth.</summary>
static class ExpandCommand
{
    public static Command Create()
    {
        var gene = new Argument<string>("GENE") { Description = "A learngene file" };
        var depths = new Option<string>("--depths") { Description = "Depths: a range 1..12, a list 2,4,6, or both (1..4,8,12)", DefaultValueFactory = _ => "1..12" };
        var classes = new Option<int?>("--classes") { Description = "Classes of the descendants (default: the learngene's); another count gets a fresh head" };
        var width = new Option<int?>("--width") { Description = "Width of the descendants: must be the learngene's (TLEG and SWS expand depth only)" };
        var freshHead = new Option<bool>("--fresh-head") { Description = "A fresh head even when the class count matches (another label space, e.g. a transfer task)" };
        var seed = new Option<int>("--seed") { Description = "Seed for the fresh head, when there is one", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out") { Description = "Folder for depth-NN.safetensors", DefaultValueFactory = _ => "descendants" };
        var cmd = new Command("expand", "Expand a learngene into initialized descendants of the given depths (model files usable with 'train --init').");
        cmd.Arguments.Add(gene);
        foreach (var o in new Option[] { depths, classes, width, freshHead, seed, output }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            var loaded = LearngeneFile.Load(r.GetValue(gene)!);
            var method = Methods.Find(loaded.Info.Method);
            var arch = loaded.Info.Architecture;
            if (r.GetValue(width) is int w && w != arch.Width)
                throw new LearngeneException($"the learngene has width {arch.Width}; {method.Name} expands depth only, so descendants have width {arch.Width}, not {w}");
            int n = r.GetValue(classes) ?? arch.Classes;
            if (n < 1) throw new LearngeneException($"--classes must be at least 1 (got {n})");
            var list = Bench.DepthList.Parse(r.GetValue(depths)!);
            var names = n == arch.Classes && !r.GetValue(freshHead) ? loaded.Info.ClassNames : Enumerable.Range(0, n).Select(i => i.ToString()).ToArray();
            string dir = r.GetValue(output)!;
            // Expansion first (timed alone), then the files.
            var expandClock = Stopwatch.StartNew();
            torch.manual_seed(r.GetValue(seed));
            var models = list.Select(depth => method.Expand(loaded, depth, n, sameLabelSpace: !r.GetValue(freshHead))).ToList();
            double expandSeconds = expandClock.Elapsed.TotalSeconds;
            var writeClock = Stopwatch.StartNew();
            foreach (var model in models)
            {
                int depth = model.Config.Depth;
                string path = Path.Combine(dir, $"depth-{depth:D2}.safetensors");
                ModelFile.Save(path, model, loaded.Info.Normalization, names, new Dictionary<string, string>
                {
                    ["learngene"] = loaded.Path, ["method"] = method.Name, ["data"] = loaded.Info.SourceData,
                });
                Console.WriteLine($"depth {depth,2}: {model.ParameterCount():N0} parameters, {model.MacsPerImage() / 1e6:F1} M MACs/image → {path}");
                model.Dispose();
            }
            Console.WriteLine($"{list.Count} descendants expanded in {expandSeconds:F3} s and written in {writeClock.Elapsed.TotalSeconds:F2} s (learngene: {method.StoredParameters(loaded):N0} stored parameters)");
            return 0;
        });
        return cmd;
    }
}

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
        var seed = new Option<int>("--seed") { Description = "Seed for the fresh head, when there is one", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out") { Description = "Folder for depth-NN.safetensors", DefaultValueFactory = _ => "descendants" };
        var cmd = new Command("expand", "Expand a learngene into initialized descendants of the given depths (model files usable with 'train --init').");
        cmd.Arguments.Add(gene);
        foreach (var o in new Option[] { depths, classes, width, seed, output }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            var loaded = LearngeneFile.Load(r.GetValue(gene)!);
            var method = Methods.Find(loaded.Info.Method);
            var arch = loaded.Info.Architecture;
            if (r.GetValue(width) is int w && w != arch.Width)
                throw new LearngeneException($"the learngene has width {arch.Width}; {method.Name} expands depth only, so descendants have width {arch.Width}, not {w}");
            int n = r.GetValue(classes) ?? arch.Classes;
            if (n < 1) throw new LearngeneException($"--classes must be at least 1 (got {n})");
            var list = ParseDepths(r.GetValue(depths)!);
            var names = n == arch.Classes ? loaded.Info.ClassNames : Enumerable.Range(0, n).Select(i => i.ToString()).ToArray();
            string dir = r.GetValue(output)!;
            var clock = Stopwatch.StartNew();
            torch.manual_seed(r.GetValue(seed));
            foreach (int depth in list)
            {
                var model = method.Expand(loaded, depth, n);
                string path = Path.Combine(dir, $"depth-{depth:D2}.safetensors");
                ModelFile.Save(path, model, loaded.Info.Normalization, names, new Dictionary<string, string>
                {
                    ["learngene"] = loaded.Path, ["method"] = method.Name, ["data"] = loaded.Info.SourceData,
                });
                Console.WriteLine($"depth {depth,2}: {model.ParameterCount():N0} parameters, {model.MacsPerImage() / 1e6:F1} M MACs/image → {path}");
            }
            Console.WriteLine($"{list.Count} descendants in {clock.Elapsed.TotalSeconds:F2} s (learngene: {method.StoredParameters(loaded):N0} stored parameters)");
            return 0;
        });
        return cmd;
    }

    public static List<int> ParseDepths(string text)
    {
        var result = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var range = part.Split("..");
            bool ok = range.Length switch
            {
                1 => int.TryParse(range[0], out int single) && Add(single, single),
                2 => int.TryParse(range[0], out int from) && int.TryParse(range[1], out int to) && Add(from, to),
                _ => false,
            };
            if (!ok) throw new LearngeneException($"--depths '{text}': expected a range like 1..12 or a list like 2,4,6 of depths of at least 1");
        }
        if (result.Count == 0) throw new LearngeneException("--depths names no depth");
        return result.Distinct().Order().ToList();

        bool Add(int from, int to)
        {
            if (from < 1 || to < from) return false;
            for (int d = from; d <= to; d++) result.Add(d);
            return true;
        }
    }
}

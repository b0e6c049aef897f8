using System.CommandLine;
using Learngene.Baselines.Initializers;
using Learngene.Experiments;
using Learngene.Runs;

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
        var tailors = new Option<string?>("--tailors") { Description = "KIND: recombine the learngenes with these pre-training classes' tailors (indices, e.g. 0,3; none: the learngenes alone); writes one diffusion model file" };
        var cmd = new Command("expand", "Expand a learngene (or apply a baseline initializer) into initialized descendants of the given depths: model files usable with 'train --init'.");
        cmd.Arguments.Add(gene);
        foreach (var o in new Option[] { depths, classes, width, freshHead, layersSource, init, ancestry, inherit, wsLayers, wsElements, seed, output, tailors }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            if (r.GetValue(tailors) is string kept)
            {
                KindCommand.Expand(r.GetValue(gene) ?? throw new LearngeneException("--tailors needs a kind learngene file"), kept, r.GetValue(output)!);
                return 0;
            }
            var list = DepthList.Parse(r.GetValue(depths)!);
            ExpandRun.Outcome outcome;
            if (r.GetValue(init) is string initName)
            {
                if (r.GetValue(gene) is not null) throw new LearngeneException("give either a learngene file or --init, not both");
                outcome = ExpandRun.FromInitializer(Initializers.Registry.Find(initName), r.GetValue(ancestry), list, r.GetValue(classes), r.GetValue(width),
                    r.GetValue(freshHead), r.GetValue(inherit), Shared.WsRules(r, wsLayers, wsElements), r.GetValue(seed), r.GetValue(output)!);
            }
            else
            {
                string genePath = r.GetValue(gene) ?? throw new LearngeneException("give a learngene file to expand, or --init NAME --ancestry FILE");
                if (File.Exists(genePath) && Learngene.IO.SafeTensors.ReadMetadata(genePath).GetValueOrDefault("method") == Learngene.Methods.Kind.KindGene.Method)
                    throw new LearngeneException($"{genePath} is a kind learngene: it recombines with --tailors (pre-training class indices, or none), it has no depths", setting: "tailors");
                int[]? mapping = r.GetValue(layersSource) is string ls ? Learngene.Methods.Sws.SwsLayout.Parse(ls) : null;
                outcome = ExpandRun.FromGene(genePath, list, mapping, r.GetValue(classes), r.GetValue(width), r.GetValue(freshHead), r.GetValue(seed), r.GetValue(output)!);
            }
            foreach (var f in outcome.Files)
                Console.WriteLine($"depth {f.Depth,2}: {f.Parameters:N0} parameters, {f.MacsPerImage / 1e6:F1} M MACs/image → {f.Path}");
            Console.WriteLine($"{outcome.Files.Count} descendants expanded in {outcome.ExpandSeconds:F3} s and written in {outcome.WriteSeconds:F2} s" +
                              (outcome.StoredParameters > 0 ? $" (learngene: {outcome.StoredParameters:N0} stored parameters)" : ""));
            return 0;
        });
        return cmd;
    }
}

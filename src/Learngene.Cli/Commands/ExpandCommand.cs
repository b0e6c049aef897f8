using System.CommandLine;
using Learngene.Baselines.Initializers;
using Learngene.Experiments;
using Learngene.Methods;
using Learngene.Runs;

namespace Learngene.Cli;

/// <summary><c>learngene expand GENE</c>: descendants of a learngene of any method, through the method contract
/// (each method's expand settings are options here); or <c>learngene expand --init NAME --ancestry FILE</c>
/// for the baseline initializers.</summary>
static class ExpandCommand
{
    public static Command Create()
    {
        var gene = new Argument<string?>("GENE") { Description = "A learngene file of any method (omit with --init)", Arity = ArgumentArity.ZeroOrOne };
        // Every method's settings, each once (TLEG and SWS share theirs); a file's method says which apply.
        var settings = LearngeneMethods.Registry.All.SelectMany(m => m.ExpandSettings).DistinctBy(s => s.Name).ToList();
        var options = new SettingOptions(settings);
        var init = new Option<string?>("--init") { Description = $"A baseline initializer instead of a learngene: {string.Join(", ", Initializers.Registry.All.Select(i => i.Name))} (the architecture is the ancestry's, at each depth; takes --depths, --classes, --width, --fresh-head)" };
        var ancestry = new Option<string?>("--ancestry") { Description = "The trained ViT model file --init takes weights from" };
        var initSettings = new SettingOptions(Initializers.AllSettings);
        var seed = new Option<int>("--seed") { Description = "Seed for the fresh parts", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out") { Description = "Folder for the descendants' model files", DefaultValueFactory = _ => "descendants" };
        var cmd = new Command("expand", "Expand a learngene (TLEG, SWS: depths; Learngene Pool: a configuration; KIND: a recombination) or apply a baseline initializer: model files usable with 'train --init'.");
        cmd.Arguments.Add(gene);
        options.AddTo(cmd);
        foreach (var o in new Option[] { init, ancestry }) cmd.Options.Add(o);
        initSettings.AddTo(cmd);
        foreach (var o in new Option[] { seed, output }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            var given = options.Given(r).Values.ToDictionary();
            var request = new ExpandRequest(r.GetValue(output)!, given, r.GetValue(seed));
            Expansion expansion;
            if (r.GetValue(init) is string initName)
            {
                if (r.GetValue(gene) is not null) throw new LearngeneException("give either a learngene file or --init, not both");
                Refuse(given, DepthExpansion.Settings, "a baseline initializer");
                var outcome = ExpandRun.FromInitializer(Initializers.Configured(initName, initSettings.Given(r)), r.GetValue(ancestry), DepthList.Parse(request.Text("depths") ?? "1..12"),
                    request.Int("classes"), request.Int("width"), request.Flag("fresh-head"), request.Seed, request.OutDir);
                expansion = DepthExpansion.Summarized(outcome);
            }
            else
            {
                string genePath = r.GetValue(gene) ?? throw new LearngeneException("give a learngene file to expand, or --init NAME --ancestry FILE");
                var method = LearngeneMethods.OfFile(genePath);
                Refuse(given, method.ExpandSettings, $"a {method.Name} learngene");
                expansion = method.Expand(genePath, request);
            }
            foreach (var f in expansion.Files)
                Console.WriteLine($"{f.Label}: {f.Parameters:N0} parameters, {f.MacsPerImage / 1e6:F1} M MACs/image → {f.Path}");
            Console.WriteLine(expansion.Summary);
            return 0;
        });
        return cmd;
    }

    /// <summary>One clear error for a setting the chosen method (or initializer) does not take.</summary>
    static void Refuse(IReadOnlyDictionary<string, string> given, IReadOnlyList<Setting> takes, string what)
    {
        if (given.Keys.FirstOrDefault(k => takes.All(s => s.Name != k)) is string foreign)
            throw new LearngeneException($"--{foreign} does not apply to {what} (it takes {string.Join(", ", takes.Select(s => "--" + s.Name))})", setting: foreign);
    }
}

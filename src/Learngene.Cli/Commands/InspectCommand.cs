using System.CommandLine;
using Learngene.IO;
using Learngene.Models;
using Spectre.Console;

namespace Learngene.Cli;

static class InspectCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "A model file or checkpoint (.safetensors)" };
        var cmd = new Command("inspect", "Print a model or learngene file's metadata, tensors, parameter count and FLOPs (a learngene: also what its method stores and how it expands).");
        cmd.Arguments.Add(file);
        cmd.SetAction(r =>
        {
            string path = r.GetValue(file)!;
            var (tensors, meta) = SafeTensors.Load(path);
            Console.WriteLine($"{path}: {meta.GetValueOrDefault("format", "(no Learngene format field)")}");
            foreach (var (k, v) in meta.Where(kv => kv.Key is not ("config" or "history" or "options")).OrderBy(kv => kv.Key))
                Console.WriteLine($"  {k}: {(v.Length > 100 ? v[..100] + "…" : v)}");
            var table = new Table().AddColumns("group", "tensors", "parameters", "example shape");
            foreach (var g in tensors.GroupBy(kv => Group(kv.Key)).OrderBy(g => g.Key, StringComparer.Ordinal))
                table.AddTextRow(g.Key, g.Count().ToString(), g.Sum(kv => kv.Value.numel()).ToString("N0"),
                    "[" + string.Join(",", g.First().Value.shape) + "]");
            AnsiConsole.Write(table);
            Console.WriteLine($"tensors: {tensors.Count}, values: {tensors.Values.Sum(t => t.numel()):N0}");
            if (meta.TryGetValue("config", out var json))
            {
                var config = ModelConfig.FromJson(json, path);
                // Any family: a classifier, a diffusion transformer (its MACs are per denoising step), a stitch pool.
                using var model = ModelFamilies.Registry.Find(config.Validate().Family).Build(config);
                var info = (IModel)model;
                // A learngene of any method says what it holds through the method contract.
                // (a plugin's file, whose method this process does not know, prints what any model file does).
                if (meta.GetValueOrDefault("format") == Learngene.Methods.LearngeneFile.Format
                    && Learngene.Methods.LearngeneMethods.Reading(meta.GetValueOrDefault("method", "")) is { } method)
                    foreach (var line in method.Describe(path)) Console.WriteLine(line);
                Console.WriteLine($"architecture: {config.Describe()}");
                Console.WriteLine($"parameters: {model.ParameterCount():N0}");
                Console.WriteLine($"FLOPs per image{(config is DitConfig ? " and denoising step" : "")}: {info.MacsPerImage() / 1e6:F2} M multiply-accumulates (the DeiT papers' \"FLOPs\"), {2 * info.MacsPerImage() / 1e6:F2} M FLOPs");
            }
            return 0;
        });
        return cmd;
    }

    // blocks.3.attn.qkv.weight → blocks.*.attn.qkv.weight, so a 12-block model prints as a short table.
    static string Group(string name) =>
        string.Join('.', name.Split('.').Select(p => p.All(char.IsDigit) ? "*" : p));
}

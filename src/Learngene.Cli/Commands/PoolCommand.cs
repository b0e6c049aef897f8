using System.CommandLine;
using System.Text.Json;
using Learngene.Methods.Pool;
using Learngene.Models;
using Learngene.Models.Stitching;
using Spectre.Console;

namespace Learngene.Cli;

/// <summary><c>learngene pool list|export</c>: using a stitched family's learngene file (Learngene Pool or SN-Net).</summary>
static class PoolCommand
{
    public static Command Create()
    {
        var cmd = new Command("pool", "Use a stitched family (a Learngene Pool or SN-Net learngene file, made by 'bench pool'): list its configurations, export one as a model file.");
        cmd.Subcommands.Add(List());
        cmd.Subcommands.Add(Export());
        return cmd;
    }

    static Argument<string> PoolFileArgument() => new("POOL") { Description = "A pool learngene file (method pool or sn-net)" };
    static Option<long?> BudgetParams() => new("--budget-params") { Description = "Pick the most accurate configuration with at most this many parameters" };
    static Option<long?> BudgetMacs() => new("--budget-macs") { Description = "Pick the most accurate configuration with at most this many MACs per image" };

    static Command List()
    {
        var file = PoolFileArgument();
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table" };
        var (parameters, macs) = (BudgetParams(), BudgetMacs());
        var cmd = new Command("list", "Every configuration with its test accuracy, parameters and MACs per image (and, with a budget, the pick).");
        cmd.Arguments.Add(file);
        foreach (var o in new Option[] { json, parameters, macs }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            var pool = PoolFile.Read(r.GetValue(file)!);
            var configs = pool.Record.Pool.Configurations().ToDictionary(c => c.Id);
            bool budget = r.GetValue(parameters) is not null || r.GetValue(macs) is not null;
            var pick = budget ? PoolFile.Pick(pool, null, r.GetValue(parameters), r.GetValue(macs)) : null;
            if (r.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    method = pool.Info.Method, stitch_init = pool.Record.StitchInit, test_data = pool.Record.TestData, pick = pick?.Id,
                    configurations = pool.Record.Configurations.Select(c => new { c.Id, configs[c.Id].Depth, c.Parameters, c.MacsPerImage, c.Accuracy }),
                }, new JsonSerializerOptions(ModelConfig.Json) { WriteIndented = true }));
                return 0;
            }
            var front = BudgetPick.ParetoFront(pool.Record.Configurations).Select(c => c.Id).ToHashSet();
            var table = new Table().AddColumns("id", "depth", "parameters", "MACs/image", "accuracy (%)", "");
            foreach (var c in pool.Record.Configurations.OrderBy(c => c.Parameters))
                table.AddTextRow(c.Id, configs[c.Id].Depth.ToString(), c.Parameters.ToString("N0"), c.MacsPerImage.ToString("N0"), (c.Accuracy * 100).ToString("F2"),
                    c.Id == pick?.Id ? "← pick" : front.Contains(c.Id) ? "front" : "");
            AnsiConsole.Write(table);
            Console.WriteLine($"{pool.Info.Method} ({pool.Record.Pool.Describe()}), stitch init {pool.Record.StitchInit}; accuracy on {pool.Record.TestImages} {pool.Record.TestData} test images; 'front': the Pareto front");
            return 0;
        });
        return cmd;
    }

    static Command Export()
    {
        var file = PoolFileArgument();
        var config = new Option<string?>("--config") { Description = "The configuration's id (see 'pool list')" };
        var output = new Option<string>("--out") { Description = "The model file to write", Required = true };
        var (parameters, macs) = (BudgetParams(), BudgetMacs());
        var cmd = new Command("export", "Write one configuration as an ordinary model file (loadable by eval, train --init, inspect).");
        cmd.Arguments.Add(file);
        foreach (var o in new Option[] { config, output, parameters, macs }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            string path = r.GetValue(file)!;
            var pick = PoolFile.Pick(PoolFile.Read(path), r.GetValue(config), r.GetValue(parameters), r.GetValue(macs));
            PoolFile.Export(path, pick.Id, r.GetValue(output)!);
            Console.WriteLine($"{pick.Id}: {pick.Parameters:N0} parameters, {pick.MacsPerImage:N0} MACs per image, {pick.Accuracy * 100:F2}% → {r.GetValue(output)}");
            return 0;
        });
        return cmd;
    }
}

using System.CommandLine;
using Learngene.Interop;

namespace Learngene.Cli;

static class ImportCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "A state dict in safetensors (a timm ViT or a facebookresearch/DiT model)" };
        var format = new Option<string>("--format") { Description = "timm or dit", Required = true };
        format.AcceptOnlyFromAmong(Interchange.ImportFormats);
        var config = new Option<string?>("--config")
        {
            Description = "What the shapes do not tell, as the peer's constructor arguments: inline JSON or a JSON file (e.g. '{\"num_heads\": 3}'; " +
                          "a Hugging Face timm config.json works; mean and std set the normalization). An exported file carries them already.",
        };
        var output = new Option<string>("--out") { Description = "The Learngene model file to write", Required = true };
        var cmd = new Command("import", "Read a timm ViT or DiT state dict into a Learngene model file (to evaluate, fine-tune, use as teacher or ancestry).");
        cmd.Arguments.Add(file);
        foreach (var o in new Option[] { format, config, output }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            string what = Interchange.Import(r.GetValue(file)!, r.GetValue(format)!, r.GetValue(config), r.GetValue(output)!);
            Console.WriteLine($"wrote {r.GetValue(output)}: {what}");
            return 0;
        });
        return cmd;
    }
}

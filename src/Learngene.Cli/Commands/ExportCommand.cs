using System.CommandLine;
using Learngene.Interop;

namespace Learngene.Cli;

static class ExportCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("MODEL") { Description = "A model file (model.safetensors)" };
        var format = new Option<string>("--format")
        {
            Description = "timm (a ViT in timm's VisionTransformer names), dit (a DiT in facebookresearch/DiT's names) or onnx (a graph for ONNX Runtime)",
            Required = true,
        };
        format.AcceptOnlyFromAmong(Interchange.ExportFormats);
        var output = new Option<string>("--out") { Description = "The file to write", Required = true };
        var reference = new Option<bool>("--reference")
        {
            Description = "Also write OUT.reference.safetensors: a fixed input and this model's output on it, for a loader elsewhere to check itself",
        };
        var cmd = new Command("export", "Write a model file in another tool's format: timm or DiT state dicts (safetensors), or ONNX.");
        cmd.Arguments.Add(file);
        cmd.Options.Add(format);
        cmd.Options.Add(output);
        cmd.Options.Add(reference);
        cmd.SetAction(r =>
        {
            string what = Interchange.Export(r.GetValue(file)!, r.GetValue(format)!, r.GetValue(output)!, r.GetValue(reference));
            Console.WriteLine($"wrote {r.GetValue(output)}: {what}");
            if (r.GetValue(reference)) Console.WriteLine($"wrote {Interchange.ReferencePath(r.GetValue(output)!)}: a fixed input and the model's output on it");
            return 0;
        });
        return cmd;
    }
}

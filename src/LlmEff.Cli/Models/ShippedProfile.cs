using LlmEff.Core;
using LlmEff.Core.Energy;

namespace LlmEff.Cli.Models;

/// <summary>One runtime profile the tool ships: its name as <c>--model</c> accepts it, its kind, and the model with its provenance metadata.</summary>
internal sealed record ShippedProfile(string Name, string Kind, RuntimeModel Model)
{
    /// <summary>The measured energy model shipped beside it (<c>Profiles/&lt;name&gt;.energy.json</c>), when there is one.</summary>
    public EnergyModel? Energy { get; init; }
}


namespace LlmEff.Profiling.Torch.Tests.Profiling;

public sealed class ProfilingPlanTests
{
    [Fact]
    public void Paper_plan_uses_the_section_3_4_prompt_sizes()
    {
        var plan = ProfilingPlan.Paper.Validate();
        Assert.Equal([1, 256, 512, 1024, 1536], plan.PromptTokens); // paper §3.4
        Assert.Equal(64, plan.MaxOutputTokens);
        Assert.Equal(1536 + 64 - 1, plan.CapacityTokens);
        Assert.Equal(5 * 7 * 3, plan.TotalQueries);
        Assert.Equal(plan.TotalQueries, plan.Points().Distinct().Count());
    }

    [Fact]
    public void A_mixture_plan_adds_knots_where_its_prompts_reach_most_experts()
    {
        // Where 50, 90 and 99 % of the experts are expected to be touched: PE bends there.
        var qwen = ProfilingPlan.ForArchitecture(Core.Architecture.ArchitectureCatalog.Get("Qwen/Qwen3-30B-A3B"));
        Assert.Equal([1, 11, 36, 72, 256, 512, 1024, 1536], qwen.PromptTokens);
        Assert.Equal(ProfilingPlan.Paper.OutputTokens, qwen.OutputTokens);
        var mixtral = Core.Architecture.ArchitectureCatalog.Get("mistralai/Mixtral-8x7B-v0.1");
        Assert.Equal([1, 3, 9, 17, 256, 512, 1024, 1536], ProfilingPlan.ForArchitecture(mixtral).PromptTokens);

        // Only below the plan's largest prompt; a dense model keeps its plan.
        var small = ProfilingPlan.Create([1, 8, 16], [1, 4]);
        Assert.Equal([1, 3, 8, 9, 16], ProfilingPlan.ForArchitecture(mixtral, small).PromptTokens);
        Assert.Same(ProfilingPlan.Paper, ProfilingPlan.ForArchitecture(Core.Architecture.ArchitectureCatalog.Get("EleutherAI/GPT-J")));
    }

    [Fact]
    public void Bad_plans_name_the_value_and_the_fix()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ProfilingPlan.Create([0, 5], [1, 2]));
        Assert.Equal("PromptTokens", ex.ParamName);
        Assert.Contains("0,5", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => ProfilingPlan.Create([1], [4]));
        Assert.Throws<ArgumentException>(() => ProfilingPlan.Create([1, 1], [1, 2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ProfilingPlan.Create([1], [1, 2], trials: 0));
    }
}

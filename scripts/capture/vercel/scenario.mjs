// The capture scenario (scripts/capture/scenario_spec.py) with the real Vercel AI SDK (npm `ai`).
//
//   node scenario.mjs --spec spec.json --openai-url http://127.0.0.1:P/v1 \
//       --otlp-url http://127.0.0.1:R --result result.json
//
// Run from a directory where `npm ci` installed one of vercel/<name>/package.json (run_capture.py
// copies this file there; node resolves `ai` next to the script). The AI SDK's own telemetry
// (experimental_telemetry) makes the spans; they leave through the real OTLP/HTTP protobuf exporter
// (@opentelemetry/exporter-trace-otlp-proto) to the receiver. spec.json is scenario_spec.CALLS as
// written by run_capture.py, so prompts, models and parameters come from the one scenario.

import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

import { NodeSDK } from "@opentelemetry/sdk-node";
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { envDetector } from "@opentelemetry/resources";
import { createOpenAI } from "@ai-sdk/openai";
import { embed, generateText, stepCountIs, streamText, tool } from "ai";
import { z } from "zod";

const { values: args } = parseArgs({
  options: {
    spec: { type: "string" },
    "openai-url": { type: "string" },
    "otlp-url": { type: "string" },
    result: { type: "string" },
  },
});
const spec = JSON.parse(readFileSync(args.spec, "utf8"));
const calls = Object.fromEntries(spec.calls.map((c) => [c.id, c]));

// OTEL_SERVICE_NAME comes from the environment; only the env detector, so the fixture holds no
// host name, pid or command line of the capture machine.
const sdk = new NodeSDK({
  resourceDetectors: [envDetector],
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${args["otlp-url"]}/v1/traces` }))],
});
sdk.start();

const openai = createOpenAI({ baseURL: args["openai-url"], apiKey: "sk-fake-capture" });

function telemetry(functionId) {
  return {
    isEnabled: true,
    functionId,
    metadata: { userId: spec.user_id, sessionId: spec.session_id },
  };
}

const weather = spec.weather_tool.function;
const getWeather = tool({
  description: weather.description,
  inputSchema: z.object({
    city: z.string().describe(weather.parameters.properties.city.description),
    unit: z.enum(weather.parameters.properties.unit.enum).optional(),
  }),
  // spec.weather_result (scenario_spec.WEATHER_RESULT) for the city and unit the fake server asks for
  execute: async ({ city, unit }) => ({ ...spec.weather_result, city, unit: unit ?? "celsius" }),
});

const observed = [];

// (a) plain chat, system + user
let c = calls.chat;
let r = await generateText({
  model: openai.chat(c.request_model),
  system: c.system,
  prompt: c.prompt,
  temperature: c.params.temperature,
  maxOutputTokens: c.params.max_tokens,
  maxRetries: 0,
  experimental_telemetry: telemetry("capture-chat"),
});
observed.push({ id: "chat", text: r.text, usage: [r.usage.inputTokens, r.usage.outputTokens], model: r.response.modelId });

// (b) streaming chat (@ai-sdk/openai always asks for stream_options.include_usage)
c = calls.stream;
const s = streamText({
  model: openai.chat(c.request_model),
  prompt: c.prompt,
  maxRetries: 0,
  experimental_telemetry: telemetry("capture-stream"),
});
const parts = [];
for await (const part of s.textStream) parts.push(part);
const su = await s.usage;
observed.push({ id: "stream", text: parts.join(""), chunks: parts, usage: [su.inputTokens, su.outputTokens] });

// (c) a two-step tool run: the model asks for get_weather, the SDK runs it (an ai.toolCall span) and, as
// stopWhen allows a second step, sends the result back in a second model call (spec call tool_result)
c = calls.tool;
r = await generateText({
  model: openai.chat(c.request_model),
  prompt: c.prompt,
  tools: { [weather.name]: getWeather },
  toolChoice: c.params.tool_choice,
  stopWhen: stepCountIs(2),
  maxRetries: 0,
  experimental_telemetry: telemetry("capture-tool"),
});
const [first, second] = r.steps;
observed.push({
  id: "tool",
  tool_calls: first.toolCalls.map((t) => ({ id: t.toolCallId, name: t.toolName, input: t.input })),
  tool_results: first.toolResults.map((t) => t.output),
  finish_reason: first.finishReason,
  usage: [first.usage.inputTokens, first.usage.outputTokens],
});
observed.push({
  id: "tool_result",
  steps: r.steps.length,
  text: second?.text,
  finish_reason: second?.finishReason,
  usage: second ? [second.usage.inputTokens, second.usage.outputTokens] : null,
  total_usage: [r.totalUsage.inputTokens, r.totalUsage.outputTokens],
});

// (d) embeddings
c = calls.embeddings;
const e = await embed({
  model: openai.textEmbeddingModel(c.request_model),
  value: c.prompt,
  maxRetries: 0,
  experimental_telemetry: telemetry("capture-embed"),
});
observed.push({ id: "embeddings", dims: e.embedding.length, usage: [e.usage.tokens, 0] });

// (e) failing call (429), no retries
c = calls.rate_limited;
try {
  await generateText({
    model: openai.chat(c.request_model),
    prompt: c.prompt,
    maxRetries: 0,
    experimental_telemetry: telemetry("capture-error"),
  });
  observed.push({ id: "rate_limited", error: null });
} catch (err) {
  observed.push({ id: "rate_limited", error: err.name, status: err.statusCode ?? null, message: err.message });
}

await sdk.shutdown(); // flushes the batch processor
writeFileSync(
  args.result,
  JSON.stringify({ setup: "vercel-ai", observed, user_id: spec.user_id, session_id: spec.session_id }, null, 1),
);
console.log(JSON.stringify(observed));

// Types for the llm_guardrail package, whose JavaScript the bundled model is checked against.
declare module 'llm_guardrail' {
  interface Check {
    readonly confidence: number;
  }
  export function checkInjection(prompt: string): Promise<Check>;
  export function checkJailbreak(prompt: string): Promise<Check>;
  export function checkMalicious(prompt: string): Promise<Check>;
}

/** Runs `operation` repeatedly for about `millis` ms, three rounds, and returns the median rate per second. */
export async function ratePerSecond(operation: () => unknown, millis = 1500): Promise<number> {
  const rates: number[] = [];
  for (let round = 0; round < 3; round++) {
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(millis) * 1_000_000n;
    let count = 0;
    let now = start;
    while (now < deadline) {
      const result = operation();
      if (result instanceof Promise) await result;
      count++;
      if ((count & 7) === 0) now = process.hrtime.bigint();
    }
    now = process.hrtime.bigint();
    rates.push((count * 1e9) / Number(now - start));
  }
  return rates.sort((a, b) => a - b)[1] ?? 0;
}

export function printRow(label: string, value: string): void {
  process.stdout.write(`${label.padEnd(64)}${value}\n`);
}

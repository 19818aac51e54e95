import { Errors } from '@oclif/core';

/** "4.99" -> 499; refuses anything that is not a price with at most two decimals. */
export function priceToCents(price: string): number {
  if (!/^\d{1,7}(\.\d{1,2})?$/.test(price.trim())) {
    throw new Errors.CLIError(`--price must be an amount like 4.99, not "${price}".`, { exit: 2 });
  }
  const [whole = '0', fraction = ''] = price.trim().split('.');
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
}

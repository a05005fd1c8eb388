/**
 * HTTP-date (RFC 9110 §5.6.7), strictly: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), and
 * the two obsolete forms a recipient must still accept — RFC 850 (`Sunday, 06-Nov-94
 * 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`). Anything else (other zones,
 * `UTC`, dashes in the wrong form, one-digit hours, lists) is not a date: undefined. Date.parse
 * would accept much more, and what it accepts differs between engines.
 */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH = MONTHS.join('|');
const IMF = new RegExp(
  `^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\\d{2}) (${MONTH}) (\\d{4}) (\\d{2}):(\\d{2}):(\\d{2}) GMT$`,
);
const RFC850 = new RegExp(
  `^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d{2})-(${MONTH})-(\\d{2}) (\\d{2}):(\\d{2}):(\\d{2}) GMT$`,
);
const ASCTIME = new RegExp(
  `^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (${MONTH}) ( \\d|\\d{2}) (\\d{2}):(\\d{2}):(\\d{2}) (\\d{4})$`,
);

/** The last value parsed and its time: a stored response's Date is read on every hit. */
let last: { value: string; time: number | undefined } = { value: '', time: undefined };

/** Milliseconds since the epoch, or undefined when `value` is not one HTTP-date. */
export function parseHttpDate(value: string | readonly string[] | undefined): number | undefined {
  if (value === undefined || typeof value !== 'string') return undefined; // a repeated field: invalid
  if (value === last.value) return last.time;
  const time = parse(value);
  last = { value, time };
  return time;
}

function parse(value: string): number | undefined {
  let m = IMF.exec(value);
  if (m !== null) return utc(+m[3]!, m[2]!, +m[1]!, +m[4]!, +m[5]!, +m[6]!);
  m = RFC850.exec(value);
  if (m !== null) {
    // §5.6.7: a two-digit year more than 50 years ahead is the most recent past such year.
    const thisYear = new Date().getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + +m[3]!;
    if (year > thisYear + 50) year -= 100;
    return utc(year, m[2]!, +m[1]!, +m[4]!, +m[5]!, +m[6]!);
  }
  m = ASCTIME.exec(value);
  if (m !== null) return utc(+m[6]!, m[1]!, +m[2]!.trim(), +m[3]!, +m[4]!, +m[5]!);
  return undefined;
}

function utc(
  year: number,
  month: string,
  day: number,
  hour: number,
  minute: number,
  second: number,
): number | undefined {
  if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  const t = Date.UTC(year, MONTHS.indexOf(month), day, hour, minute, Math.min(second, 59));
  // 31 Feb and the like roll over in Date.UTC: not a date.
  return new Date(t).getUTCDate() === day ? t : undefined;
}

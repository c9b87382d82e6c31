// wrk request scripts more than one bench sends (Lua, as wrk runs them).

/**
 * POST a reservation with a new externalOrderId each time: <run tag>-<thread>-<counter>, one unit of a random SKU
 * of the first `skus`. The tag (wrk's first script argument) is unique to the run, so ids never repeat across runs
 * or across wrk processes running at once.
 */
export function reservationsLua(skus) {
  return `
local threads = 0
function setup(thread)
  thread:set('tid', threads)
  threads = threads + 1
end
local prefix = ''
local counter = 0
local headers = { ['content-type'] = 'application/json' }
function init(args)
  prefix = (args[1] or 'bench') .. '-' .. tid .. '-'
  math.randomseed(os.time() * 100 + tid)
end
function request()
  counter = counter + 1
  return wrk.format('POST', nil, headers,
    '{"externalOrderId":"' .. prefix .. counter .. '","lines":[{"sku":"SKU-' .. math.random(1, ${skus}) .. '","quantity":1}]}')
end
`;
}

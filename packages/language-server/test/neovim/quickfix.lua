-- Run by neovim.test.ts inside `nvim --headless`: Neovim's own LSP client starts the server, opens
-- the buggy fixture, records the diagnostics, applies the preferred quick fix for
-- require-set-to-none, waits for the re-lint, and writes what it saw as JSON.
local server = vim.env.GRADFLOW_SERVER
local file = vim.env.GRADFLOW_FILE
local out = vim.env.GRADFLOW_OUT
local result = {}

local function snapshot()
  local seen = {}
  for _, d in ipairs(vim.diagnostic.get(0)) do
    table.insert(seen, { code = d.code, lnum = d.lnum, source = d.source, message = d.message })
  end
  return seen
end

local function has_code(code)
  for _, d in ipairs(vim.diagnostic.get(0)) do
    if d.code == code then return true end
  end
  return false
end

local ok, err = pcall(function()
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local client_id = vim.lsp.start_client({
    name = 'gradflow',
    cmd = { 'node', server, '--stdio' },
    root_dir = vim.fn.fnamemodify(file, ':h'),
  })
  assert(client_id, 'start_client failed')
  vim.lsp.buf_attach_client(0, client_id)
  assert(vim.wait(60000, function() return #vim.diagnostic.get(0) >= 3 end, 50), 'no diagnostics within 60 s')
  result.before = snapshot()

  local target
  for _, d in ipairs(vim.diagnostic.get(0)) do
    if d.code == '@gradflow/require-set-to-none' then target = d end
  end
  assert(target, 'no require-set-to-none diagnostic')
  local params = {
    textDocument = vim.lsp.util.make_text_document_params(),
    range = {
      start = { line = target.lnum, character = target.col },
      ['end'] = { line = target.end_lnum, character = target.end_col },
    },
    context = { diagnostics = vim.lsp.diagnostic.get_line_diagnostics(0, target.lnum), only = { 'quickfix' } },
  }
  local responses = vim.lsp.buf_request_sync(0, 'textDocument/codeAction', params, 30000)
  assert(responses, 'no code action response')
  local chosen
  for _, response in pairs(responses) do
    for _, action in ipairs(response.result or {}) do
      if action.isPreferred and action.edit then chosen = chosen or action end
    end
  end
  assert(chosen, 'no preferred quick fix')
  result.applied = chosen.title
  vim.lsp.util.apply_workspace_edit(chosen.edit, 'utf-16')
  result.fixed_line = vim.api.nvim_buf_get_lines(0, target.lnum, target.lnum + 1, false)[1]
  assert(vim.wait(60000, function() return not has_code('@gradflow/require-set-to-none') end, 50),
    'require-set-to-none still reported after the quick fix')
  result.after = snapshot()
  vim.lsp.stop_client(client_id)
end)
if not ok then result.error = tostring(err) end
vim.fn.writefile({ vim.fn.json_encode(result) }, out)
vim.cmd('qa!')

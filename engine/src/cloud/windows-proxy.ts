/**
 * The machine's WinHTTP proxy on Windows, read the documented way: WinHttpGetDefaultProxyConfiguration
 * (winhttp.dll), the setting `netsh winhttp set proxy` writes and Entra Connect's services use. Called
 * from Windows PowerShell through a small P/Invoke declaration that prints JSON, so the answer does not
 * depend on the language of Windows (netsh's own output is translated). Read once when the service builds
 * its network; the script is the adapter that never runs here (docs/never-runs-here.md), its answer's
 * parsing is tested.
 */
import { execFileSync } from 'node:child_process';
import { powershell } from '../base/windows-system.ts';
import { winHttpServerFor, type SystemProxy } from './proxy.ts';

export const READ_WINHTTP_PROXY_SCRIPT = [
  '[Console]::OutputEncoding = [System.Text.Encoding]::UTF8',
  'Add-Type -TypeDefinition @"',
  'using System;',
  'using System.Runtime.InteropServices;',
  'public static class DirSyncWinHttp {',
  '  [StructLayout(LayoutKind.Sequential, CharSet = CharSet.Unicode)]',
  '  public struct ProxyInfo { public uint AccessType; public IntPtr Proxy; public IntPtr Bypass; }',
  '  [DllImport("winhttp.dll", SetLastError = true)]',
  '  public static extern bool WinHttpGetDefaultProxyConfiguration(ref ProxyInfo info);',
  '  [DllImport("kernel32.dll")]',
  '  public static extern IntPtr GlobalFree(IntPtr handle);',
  '}',
  '"@',
  '$info = New-Object DirSyncWinHttp+ProxyInfo',
  'if (-not [DirSyncWinHttp]::WinHttpGetDefaultProxyConfiguration([ref]$info)) { throw "WinHttpGetDefaultProxyConfiguration failed: $([Runtime.InteropServices.Marshal]::GetLastWin32Error())" }',
  '$proxy = if ($info.Proxy -ne [IntPtr]::Zero) { [Runtime.InteropServices.Marshal]::PtrToStringUni($info.Proxy) } else { $null }',
  '$bypass = if ($info.Bypass -ne [IntPtr]::Zero) { [Runtime.InteropServices.Marshal]::PtrToStringUni($info.Bypass) } else { $null }',
  'if ($info.Proxy -ne [IntPtr]::Zero) { [void][DirSyncWinHttp]::GlobalFree($info.Proxy) }',
  'if ($info.Bypass -ne [IntPtr]::Zero) { [void][DirSyncWinHttp]::GlobalFree($info.Bypass) }',
  '[Console]::Out.Write((@{ accessType = $info.AccessType; proxy = $proxy; bypass = $bypass } | ConvertTo-Json -Compress))',
].join('\n');

/** WINHTTP_ACCESS_TYPE_NAMED_PROXY: a proxy is set; 1 (NO_PROXY) and 0 (DEFAULT_PROXY) mean direct. */
const NAMED_PROXY = 3;

/** The script's JSON answer as a system proxy for HTTPS. */
export function parseWinHttpProxy(json: string): SystemProxy {
  let answer: { accessType?: unknown; proxy?: unknown; bypass?: unknown };
  try {
    answer = JSON.parse(json) as typeof answer;
  } catch {
    throw new Error(`The WinHTTP proxy setting could not be read (the answer was not JSON: ${json.slice(0, 80)}).`);
  }
  const source = 'the machine\'s WinHTTP proxy (netsh winhttp show proxy)';
  if (answer.accessType !== NAMED_PROXY || typeof answer.proxy !== 'string' || answer.proxy.trim() === '') return { bypass: [], source };
  const bypass = typeof answer.bypass === 'string' ? answer.bypass.split(/[;\s]+/).filter((e) => e !== '') : [];
  return { server: winHttpServerFor(answer.proxy), bypass, source };
}

export function readWinHttpProxy(run: (command: string, args: string[]) => string = runTool): SystemProxy {
  const [command, args] = powershell(READ_WINHTTP_PROXY_SCRIPT);
  return parseWinHttpProxy(run(command, args));
}

function runTool(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', windowsHide: true, timeout: 30_000 });
}

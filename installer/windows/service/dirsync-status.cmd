@echo off
rem Exit code 3 while a synchronization run is in progress (the uninstaller waits or cancels), 0 otherwise.
setlocal
set ELECTRON_RUN_AS_NODE=1
"%~dp0..\..\Directory Sync.exe" -e "const {execFileSync}=require('child_process');try{const s=JSON.parse(execFileSync(process.execPath,[String.raw`%~dp0..\app\engine\bin\dirsync.js`,'--data-dir',process.env.ProgramData+'\\Directory Sync','--json','status'],{env:process.env}));process.exit(s.lastRun&&s.lastRun.status==='running'?3:0)}catch{process.exit(0)}"

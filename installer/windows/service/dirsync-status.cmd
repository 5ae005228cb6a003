@echo off
rem For the installer: `dirsync service busy` over the service's control channel. Exit 5 while a synchronization
rem run is in progress, 0 when none is (or the service is not running), anything else when it cannot be told:
rem the installer then asks the administrator instead of assuming the service is idle (fail closed).
setlocal
set ELECTRON_RUN_AS_NODE=1
"%~dp0..\..\Directory Sync.exe" "%~dp0..\app\engine\bin\dirsync.js" --data-dir "%ProgramData%\Directory Sync" service busy
exit /b %ERRORLEVEL%

@echo off
rem `dirsync` for administrators: the installer puts this folder on the machine PATH. It runs the engine with the
rem app's own executable as Node.js on the service's data folder (a --data-dir given after it wins). Open the
rem command prompt with "Run as administrator": the data folder and the service's control key are for
rem Administrators and the service only.
setlocal
set ELECTRON_RUN_AS_NODE=1
"%~dp0..\..\Directory Sync.exe" "%~dp0..\app\engine\bin\dirsync.js" --data-dir "%ProgramData%\Directory Sync" %*
exit /b %ERRORLEVEL%
